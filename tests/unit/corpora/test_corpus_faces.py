"""Face image corpora: the CK+ and facial_expressions readers on the real folders and on small look-alike trees,
their label sets, `emorec data stats`, and splits that keep every subject/person on one side."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emorec.cli import app
from emorec.config import load_config
from emorec.corpora import ckplus, facial_expressions
from emorec.corpora.corpora import read_corpus
from emorec.corpora.labels import get_label_set
from emorec.corpora.splits import SplitSpec, make_folds

CK_COUNTS = {"anger": 135, "contempt": 54, "disgust": 177, "fear": 75, "happy": 207, "sadness": 84, "surprise": 249}
FE_COUNTS = {
    "neutral": 6864,
    "happiness": 5693,
    "surprise": 367,
    "sadness": 267,
    "anger": 252,
    "disgust": 208,
    "fear": 21,
    "contempt": 9,
}
runner = CliRunner()


@pytest.fixture(scope="module")
def ck_root(shared_data) -> Path:
    return shared_data / "faces" / "ckplus48"


@pytest.fixture(scope="module")
def fe_root(shared_data) -> Path:
    return shared_data / "faces" / "facial_expressions"


@pytest.fixture(scope="module")
def ck(ck_root):
    return read_corpus("ckplus", str(ck_root))


@pytest.fixture(scope="module")
def fe(fe_root):
    return read_corpus("facial_expressions", str(fe_root))


def _parts_by_group(fold, utterances):
    group = {u.utt_id: u.group for u in utterances}
    return [{group[i] for i in part} for part in (fold.train, fold.val, fold.test)]


# ---- CK+ ----


def test_ckplus_real_folder(ck):
    assert ck.problems == []
    assert len(ck.utterances) == 981
    assert Counter(u.label for u in ck.utterances) == CK_COUNTS
    assert len({u.speaker for u in ck.utterances}) == 118
    assert len({u.dialog for u in ck.utterances}) == 327
    for u in ck.utterances:
        subject, sequence, _ = u.utt_id.split("_")
        assert (u.speaker, u.group, u.dialog) == (subject, subject, f"{subject}_{sequence}")
        assert Path(u.video_path).is_file() and Path(u.video_path).name == u.utt_id + ".png"
        assert Path(u.video_path).parent.name == u.label
        assert (u.start, u.end, u.side, u.audio_path, u.text) == (None, None, "full", "", "")
    assert [u.order for u in ck.utterances] == list(range(981))
    assert [u.utt_id for u in ck.utterances[:2]] == ["S005_001_00000009", "S005_001_00000010"]
    kept, dropped = get_label_set("ckplus7").apply(ck.utterances)
    assert len(kept) == 981 and not dropped


def test_ckplus_problems_are_reported_and_the_rest_is_read(tmp_path, ck_root):
    src = next((ck_root / "happy").glob("*.png"))
    for folder, name in [
        ("happy", "S900_001_00000001.png"),
        ("happy", "S900_001_00000002.png"),
        ("fear", "S901_002_00000005.png"),
        ("fear", "S900_001_00000001.png"),
        ("fear", "not_a_ck_name.png"),
    ]:
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_bytes(src.read_bytes())
    (tmp_path / "happy" / "S902_001_00000001.png").write_bytes(b"")
    (tmp_path / "happy" / "notes.txt").write_text("ignored")
    data = ckplus.read(tmp_path)
    assert [(u.utt_id, u.label) for u in data.utterances] == [
        ("S900_001_00000001", "fear"),
        ("S900_001_00000002", "happy"),
        ("S901_002_00000005", "fear"),
    ]
    reasons = sorted(p.reason.split(":")[0] for p in data.problems)
    assert reasons == ["duplicate", "empty file", "name"]
    assert all(Path(p.file).is_file() for p in data.problems)
    with pytest.raises(FileNotFoundError, match="no CK\\+ expression folders"):
        ckplus.read(tmp_path / "happy")


def test_ckplus_config_folds_are_subject_independent(ck):
    cfg = load_config("ckplus_face")
    folds = make_folds(get_label_set(cfg.label_set).apply(ck.utterances)[0], cfg.split)
    assert len(folds) == 10
    tested = Counter()
    for fold in folds:
        train, val, test = _parts_by_group(fold, ck.utterances)
        assert not (train & val) and not (train & test) and not (val & test)
        assert fold.leakage.speaker_independent
        assert 60 <= len(fold.val) <= 130 and len(val) >= 5  # about a tenth of the training side, whole subjects
        tested.update(test)
    assert set(tested) == {u.speaker for u in ck.utterances} and set(tested.values()) == {1}
    assert sum(len(f.test) for f in folds) == 981


# ---- facial_expressions ----


def test_facial_expressions_real_folder(fe, fe_root):
    assert len(fe.utterances) == 13681
    assert Counter(u.label for u in fe.utterances) == FE_COUNTS
    assert fe.problem_counts() == {"unlabelled": 36, "duplicate": 7, "conflicting labels": 1}
    by_id = {u.utt_id: u for u in fe.utterances}
    assert by_id["George_W_Bush_0001"].speaker == "George_W_Bush"
    assert by_id["HrithikRoshan_1"].speaker == "HrithikRoshan"
    posed = [u for u in fe.utterances if u.utt_id.startswith("facial-expressions_")]
    assert len(posed) == 4 and {u.speaker for u in posed} == {"contributor-628"}
    assert by_id["facial-expressions_2868588k"].label == "anger"
    assert "Avinash_30" not in by_id  # labelled surprise and sadness
    assert by_id["Kimi_Raikkonen_0002"].evaluators == ["dwdii:neutral"]  # first of its two rows
    assert len({u.speaker for u in fe.utterances}) == 5606 + 8 + 1
    for u in fe.utterances[::500]:
        assert u.group == u.speaker and Path(u.video_path) == fe_root / "images" / f"{u.utt_id}.jpg"
        assert (u.start, u.end, u.side, u.audio_path) == (None, None, "full", "")
    kept, dropped = get_label_set("facial_expressions8").apply(fe.utterances)
    assert len(kept) == 13681 and not dropped


@pytest.mark.parametrize(
    "name, user, person",
    [
        ("Aaron_Peirsol_0004.jpg", "302", "Aaron_Peirsol"),
        ("Lin_Yi-fu_0001.jpg", "JN721", "Lin_Yi-fu"),
        ("FaridaJalal_109.jpg", "jhamski", "FaridaJalal"),
        ("facial-expressions_2868582k.jpg", "628", "contributor-628"),
        ("selfie.jpg", "x", "selfie"),
    ],
)
def test_facial_expressions_person_from_the_name(name, user, person):
    assert facial_expressions.person_of(name, user) == person


def test_facial_expressions_problems_are_reported_not_fatal(tmp_path, fe_root):
    images = tmp_path / "images"
    images.mkdir()
    src = (fe_root / "images" / "AJ_Cook_0001.jpg").read_bytes()
    for name in ("Ann_Lee_0001.jpg", "Ann_Lee_0002.jpg", "Bob_Roe_0001.jpg", "Extra_0001.jpg", "Twice_0001.jpg"):
        (images / name).write_bytes(src)
    (images / "Empty_0001.jpg").write_bytes(b"")
    (tmp_path / "legend.csv").write_text(
        "user.id,image,emotion\n"
        "302,Ann_Lee_0001.jpg,HAPPINESS\n"
        "302,Ann_Lee_0002.jpg,Neutral\n"
        "302,Gone_0001.jpg,anger\n"
        "302,Bob_Roe_0001.jpg,joy\n"
        "302,Bob_Roe_0001.jpg\n"
        "302,Empty_0001.jpg,fear\n"
        "302,Twice_0001.jpg,sadness\n"
        "JN721,Twice_0001.jpg,SADNESS\n"
    )
    data = facial_expressions.read(tmp_path)
    assert [(u.utt_id, u.label, u.speaker) for u in data.utterances] == [
        ("Ann_Lee_0001", "happiness", "Ann_Lee"),
        ("Ann_Lee_0002", "neutral", "Ann_Lee"),
        ("Twice_0001", "sadness", "Twice"),
    ]
    found = {(Path(p.file).name, p.line, p.reason.split(":")[0]) for p in data.problems}
    assert found == {
        ("legend.csv", 4, "missing image"),
        ("legend.csv", 5, "unknown label"),
        ("legend.csv", 6, "malformed row"),
        ("Empty_0001.jpg", 0, "empty file"),
        ("legend.csv", 9, "duplicate"),
        ("Bob_Roe_0001.jpg", 0, "unlabelled"),
        ("Extra_0001.jpg", 0, "unlabelled"),
    }
    assert any("Gone_0001.jpg" in p.reason for p in data.problems)


def test_facial_expressions_config_folds_are_person_independent(fe):
    cfg = load_config("facial_expressions_face")
    folds = make_folds(fe.utterances, cfg.split)
    assert len(folds) == cfg.split.k
    for fold in folds:
        train, val, test = _parts_by_group(fold, fe.utterances)
        assert not (train & val) and not (train & test) and not (val & test)
        assert fold.leakage.speaker_independent
        assert len(fold.val) > 500
    assert sum(len(f.test) for f in folds) == 13681


def test_group_fraction_validation_takes_whole_groups(ck):
    spec = SplitSpec(kind="group_kfold", k=5, val_by="group_fraction", val_fraction=0.2, seed=3)
    for fold in make_folds(ck.utterances, spec):
        train, val, test = _parts_by_group(fold, ck.utterances)
        assert not (train & val) and not (val & test)
        share = len(fold.val) / (len(fold.train) + len(fold.val))
        assert 0.2 <= share < 0.3
    other = make_folds(ck.utterances, spec.model_copy(update={"seed": 4}))
    assert [f.test for f in other] != [f.test for f in make_folds(ck.utterances, spec)]


# ---- emorec data stats ----


@pytest.mark.parametrize(
    "corpus, folder, label_set, counts, problems",
    [
        ("ckplus", "ckplus48", "ckplus7", CK_COUNTS, 0),
        ("facial_expressions", "facial_expressions", "facial_expressions8", FE_COUNTS, 44),
    ],
)
def test_data_stats_command(shared_data, corpus, folder, label_set, counts, problems):
    root = shared_data / "faces" / folder
    result = runner.invoke(
        app,
        [
            "data",
            "stats",
            "--corpus",
            corpus,
            "--root",
            str(root),
            "--label-set",
            label_set,
            "--split",
            "group_kfold",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["by_label"] == counts and stats["utterances"] == sum(counts.values())
    assert len(stats["problems"]) == problems
    assert all(f["speaker_independent"] for f in stats["split"]["folds"])
    text = runner.invoke(app, ["data", "stats", "--corpus", corpus, "--root", str(root)])
    assert text.exit_code == 0 and f"utterances {sum(counts.values())}" in text.output
