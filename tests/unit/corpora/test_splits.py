"""Splits: fold structure, validation from the training side, and leakage statements."""

from __future__ import annotations

from collections import Counter

import pytest

from emorec.corpora.iemocap import read
from emorec.corpora.labels import get_label_set
from emorec.corpora.records import Utterance
from emorec.corpora.splits import Fold, SplitSpec, leakage, load_split_spec, make_folds
from support.iemocap_table_tree import write_tree_from_table


@pytest.fixture(scope="module")
def iemocap(shared_data, tmp_path_factory):
    root = write_tree_from_table(shared_data / "iemocap_labels" / "df_iemocap.csv", tmp_path_factory.mktemp("t"))
    return read(root).utterances


def check_partition(fold: Fold, utts: list[Utterance], covers_all: bool = True):
    train, val, test = set(fold.train), set(fold.val), set(fold.test)
    assert len(train) == len(fold.train) and len(val) == len(fold.val) and len(test) == len(fold.test)
    assert not train & val and not train & test and not val & test
    if covers_all:
        assert train | val | test == {u.utt_id for u in utts}
    assert train and test


def test_loso_five_folds_speaker_independent(iemocap):
    by_id = {u.utt_id: u for u in iemocap}
    folds = make_folds(iemocap, SplitSpec(kind="loso"))
    assert [f.name for f in folds] == ["loso-1", "loso-2", "loso-3", "loso-4", "loso-5"]
    for g, fold in zip("12345", folds):
        check_partition(fold, iemocap)
        assert {by_id[i].group for i in fold.test} == {g}
        assert g not in {by_id[i].group for i in fold.train + fold.val}
        val_speakers = {by_id[i].speaker for i in fold.val}
        assert len(val_speakers) == 1  # one held-out training speaker
        assert not val_speakers & {by_id[i].speaker for i in fold.train}
        assert 0.05 < len(fold.val) / (len(fold.train) + len(fold.val)) < 0.2
        lk = fold.leakage
        assert lk.shared_speakers == [] and lk.speaker_independent
        assert "speaker-independent" in lk.statement and "not speaker-independent" not in lk.statement
        # IEMOCAP's scripts are read in every session: stated, not hidden
        assert lk.shared_scripts == [
            "script01_1",
            "script01_2",
            "script01_3",
            "script02_1",
            "script02_2",
            "script03_1",
            "script03_2",
        ]
        assert "7 of 7 test scripts" in lk.statement
    assert Counter(i for f in folds for i in f.test) == Counter({u.utt_id: 1 for u in iemocap})
    # the validation speaker is chosen by the seed
    other = make_folds(iemocap, SplitSpec(kind="loso", seed=3))
    assert [f.test for f in other] == [f.test for f in folds]
    assert [f.val for f in other] != [f.val for f in folds]
    assert [f.val for f in make_folds(iemocap, SplitSpec(kind="loso"))] == [f.val for f in folds]


def test_loso_improvised_only_has_no_leakage(iemocap):
    impro = [u for u in iemocap if not u.scripted]
    for fold in make_folds(impro, SplitSpec(kind="loso")):
        assert fold.leakage.shared_speakers == [] and fold.leakage.shared_scripts == []
        assert fold.leakage.speaker_independent


def test_loso_fraction_validation_stratified(iemocap):
    four, _ = get_label_set("iemocap4").apply(iemocap)
    spec = SplitSpec(kind="loso", val_by="fraction", val_fraction=0.2)
    fold = make_folds(four, spec)[0]
    check_partition(fold, four)
    label = {u.utt_id: u.label for u in four}
    train_side = Counter(label[i] for i in fold.train + fold.val)
    val = Counter(label[i] for i in fold.val)
    for code, n in train_side.items():
        assert abs(val[code] - 0.2 * n) <= 1
    assert not fold.leakage.shared_speakers  # test session still held out


def test_loso_val_groups_and_fold_selection(iemocap):
    by_id = {u.utt_id: u for u in iemocap}
    folds = make_folds(iemocap, SplitSpec(kind="loso", val_groups=["4"], folds=[0, 4]))
    assert [f.name for f in folds] == ["loso-1", "loso-5"]
    assert {by_id[i].group for i in folds[0].val} == {"4"}
    with pytest.raises(ValueError, match="leave no validation group"):
        make_folds(iemocap, SplitSpec(kind="loso", val_groups=["4"]))
    with pytest.raises(ValueError, match="out of range"):
        make_folds(iemocap, SplitSpec(kind="loso", folds=[5]))


def test_random_split_reproducible_and_leaky(iemocap):
    spec = SplitSpec(kind="random", test_size=800, seed=7)
    (fold,) = make_folds(iemocap, spec)
    check_partition(fold, iemocap)
    assert len(fold.test) == 800
    assert len(fold.val) == pytest.approx(0.1 * (len(iemocap) - 800), abs=6)
    assert 8000 < len(fold.train) < 8500  # the ~8,000 / 800 protocol
    (again,) = make_folds(iemocap, spec)
    assert (again.train, again.val, again.test) == (fold.train, fold.val, fold.test)
    (other,) = make_folds(iemocap, SplitSpec(kind="random", test_size=800, seed=8))
    assert set(other.test) != set(fold.test)
    lk = fold.leakage
    assert not lk.speaker_independent and len(lk.shared_speakers) == 10
    assert lk.statement.startswith("random utterance split: 10 of 10 test speakers also appear in training")
    assert "results are not speaker-independent" in lk.statement
    (share,) = make_folds(iemocap, SplitSpec(kind="random", test_size=0.25))
    assert len(share.test) == round(0.25 * len(iemocap))
    with pytest.raises(ValueError, match="test_size"):
        make_folds(iemocap, SplitSpec(kind="random", test_size=len(iemocap)))


def test_session_kind(iemocap):
    by_id = {u.utt_id: u for u in iemocap}
    (fold,) = make_folds(iemocap, SplitSpec(kind="session", test_groups=[5]))
    assert fold.name == "session-5"
    check_partition(fold, iemocap)
    assert {by_id[i].group for i in fold.test} == {"5"}
    assert fold.leakage.speaker_independent
    (fold,) = make_folds(
        iemocap, SplitSpec(kind="session", test_groups=["5"], train_groups=["1", "2"], val_groups=["3"])
    )
    check_partition(fold, iemocap, covers_all=False)
    assert {by_id[i].group for i in fold.train} == {"1", "2"} and {by_id[i].group for i in fold.val} == {"3"}
    with pytest.raises(ValueError, match="needs test_groups"):
        make_folds(iemocap, SplitSpec(kind="session"))
    with pytest.raises(ValueError, match="unknown groups"):
        make_folds(iemocap, SplitSpec(kind="session", test_groups=["6"]))
    with pytest.raises(ValueError, match="both test and"):
        make_folds(iemocap, SplitSpec(kind="session", test_groups=["5"], val_groups=["5"]))


def actors(n_actors: int = 12, clips: int = 10) -> list[Utterance]:
    labels = ["neutral", "happy", "sad", "angry", "fearful"]
    return [
        Utterance(
            utt_id=f"a{a:02d}_{c}",
            corpus="ravdess",
            label=labels[c % 5],
            speaker=f"Actor_{a:02d}",
            group=f"Actor_{a:02d}",
            script=f"statement{c % 2 + 1}",
        )
        for a in range(1, n_actors + 1)
        for c in range(clips)
    ]


def test_group_kfold():
    utts = actors()
    by_id = {u.utt_id: u for u in utts}
    folds = make_folds(utts, SplitSpec(kind="group_kfold", k=4, seed=1))
    assert [f.name for f in folds] == ["kfold-0", "kfold-1", "kfold-2", "kfold-3"]
    tested = Counter()
    for f in folds:
        check_partition(f, utts)
        groups = {by_id[i].group for i in f.test}
        assert len(groups) == 3 and len(f.test) == 30
        assert not groups & {by_id[i].group for i in f.train + f.val}
        tested.update(groups)
        assert f.leakage.speaker_independent and f.leakage.shared_scripts == ["statement1", "statement2"]
    assert set(tested.values()) == {1} and len(tested) == 12
    assert [f.test for f in make_folds(utts, SplitSpec(kind="group_kfold", k=4, seed=1))] == [f.test for f in folds]
    with pytest.raises(ValueError, match="only 12 groups"):
        make_folds(utts, SplitSpec(kind="group_kfold", k=13))


def test_official_split():
    parts = ["train"] * 30 + ["dev"] * 5 + ["test"] * 10
    utts = [
        Utterance(
            utt_id=f"u{i}", corpus="meld", label="joy" if i % 2 else "neutral", speaker=f"s{i % 4}", group=p, split=p
        )
        for i, p in enumerate(parts)
    ]
    (fold,) = make_folds(utts, SplitSpec(kind="official"))
    assert (len(fold.train), len(fold.val), len(fold.test)) == (30, 5, 10)
    assert fold.val == [f"u{i}" for i in range(30, 35)]
    assert not fold.leakage.speaker_independent and fold.leakage.shared_speakers == ["s0", "s1", "s2", "s3"]
    no_dev = [u for u in utts if u.split != "dev"]
    (fold,) = make_folds(no_dev, SplitSpec(kind="official", val_fraction=0.2))
    assert (len(fold.train), len(fold.val), len(fold.test)) == (24, 6, 10)
    for u in utts:
        u.split = ""
    with pytest.raises(ValueError, match="official split"):
        make_folds(utts, SplitSpec(kind="official"))


def test_unknown_speakers_are_not_called_independent():
    train = [Utterance(utt_id="a", corpus="x", label="l", speaker="s1")]
    test = [Utterance(utt_id="b", corpus="x", label="l", speaker="")]
    lk = leakage(train, test, kind="custom")
    assert not lk.speaker_independent and "cannot be checked" in lk.statement


def test_load_split_spec(tmp_path):
    assert load_split_spec("random").kind == "random"
    assert load_split_spec(None) is None
    assert load_split_spec("session:4,5").test_groups == ["4", "5"]
    (tmp_path / "s.yaml").write_text("split:\n  kind: session\n  test_groups: [5]\n")
    assert load_split_spec(str(tmp_path / "s.yaml")).test_groups == ["5"]
    (tmp_path / "t.yaml").write_text("kind: group_kfold\nk: 3\n")
    assert load_split_spec(str(tmp_path / "t.yaml")).k == 3
    with pytest.raises(ValueError, match="unknown split"):
        load_split_spec("shuffle")
    with pytest.raises(ValueError):
        load_split_spec({"kind": "loso", "bogus": 1})
    with pytest.raises(FileNotFoundError):
        load_split_spec(str(tmp_path / "missing.yaml"))
