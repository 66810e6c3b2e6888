"""`corpus_stats` and the `emorec data stats` command on the IEMOCAP label table written as a tree."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from emorec.cli import app
from emorec.corpora.iemocap import read
from emorec.corpora.labels import get_label_set
from emorec.corpora.splits import SplitSpec
from emorec.corpora.stats import corpus_stats, format_stats
from support.iemocap_table_tree import write_tree_from_table

ALL_LABELS = {
    "xxx": 2507,
    "fru": 1849,
    "neu": 1708,
    "ang": 1103,
    "sad": 1084,
    "exc": 1041,
    "hap": 595,
    "sur": 107,
    "fea": 40,
    "oth": 3,
    "dis": 2,
}
FOUR = {"neu": 1708, "hap": 1636, "sad": 1084, "ang": 1103}
FOUR_BY_SESSION = {"1": 1085, "2": 1023, "3": 1151, "4": 1031, "5": 1241}

runner = CliRunner()


@pytest.fixture(scope="module")
def root(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("stats")
    write_tree_from_table(shared_data / "iemocap_labels" / "df_iemocap.csv", out)
    # one broken line, to see a problem with its line number end to end
    bad = out / "IEMOCAP_full_release" / "Session2" / "dialog" / "EmoEvaluation" / "Ses02F_impro01.txt"
    bad.write_text(bad.read_text() + "\n[3.0 - 4.0]\tSes02F_impro01_F999\tjoy\t[3.0, 3.0, 3.0]\n")
    return out


@pytest.fixture(scope="module")
def data(root):
    return read(root)


def test_stats_all_labels(data):
    s = corpus_stats(data, None, None)
    assert set(s) == {"corpus", "label_set", "utterances", "by_label", "by_session", "problems"}
    assert (s["corpus"], s["label_set"], s["utterances"]) == ("iemocap", None, 10039)
    assert s["by_label"] == ALL_LABELS and list(s["by_label"])[:2] == ["xxx", "fru"]
    assert s["by_session"] == {"1": 1819, "2": 1811, "3": 2136, "4": 2103, "5": 2170}
    unknown = [p for p in s["problems"] if p["reason"].startswith("unknown label")]
    assert len(unknown) == 1 and unknown[0]["file"].endswith("Ses02F_impro01.txt") and unknown[0]["line"] > 2
    assert all(set(p) == {"file", "line", "reason"} for p in s["problems"])
    json.dumps(s)


def test_stats_label_set_and_split(data):
    s = corpus_stats(data, get_label_set("iemocap4"), SplitSpec(kind="loso"))
    assert set(s) == {"corpus", "label_set", "utterances", "by_label", "by_session", "problems", "dropped", "split"}
    assert (s["label_set"], s["utterances"]) == ("iemocap4", 5531)
    assert s["by_label"] == FOUR and list(s["by_label"]) == ["neu", "hap", "sad", "ang"]
    assert s["by_session"] == FOUR_BY_SESSION
    assert s["dropped"] == {"xxx": 2507, "fru": 1849, "sur": 107, "fea": 40, "oth": 3, "dis": 2}
    folds = s["split"]["folds"]
    assert [f["name"] for f in folds] == [f"loso-{g}" for g in "12345"]
    assert [f["test"] for f in folds] == list(FOUR_BY_SESSION.values())
    assert all(f["train"] + f["val"] + f["test"] == 5531 and f["speaker_independent"] for f in folds)
    text = format_stats(s)
    assert "hap         1636" in text and "speaker-independent" in text and "unknown label" in text


def test_cli_json(root):
    r = runner.invoke(app, ["data", "stats", "--corpus", "iemocap", "--root", str(root), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["utterances"] == 10039 and s["by_label"] == ALL_LABELS
    reasons = {p["reason"].split(":")[0] for p in s["problems"]}
    assert {"missing video", "missing dialog wav", "missing sentence wav", "unknown label"} <= reasons

    r = runner.invoke(
        app,
        [
            "data",
            "stats",
            "--corpus",
            "iemocap",
            "--root",
            str(root / "IEMOCAP_full_release"),
            "--label-set",
            "iemocap4",
            "--split",
            "random",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["utterances"] == 5531 and s["by_label"] == FOUR and s["by_session"] == FOUR_BY_SESSION
    (fold,) = s["split"]["folds"]
    assert fold["test"] == 800 and not fold["speaker_independent"]
    assert "not speaker-independent" in fold["statement"]


def test_cli_text(root):
    r = runner.invoke(app, ["data", "stats", "--corpus", "iemocap", "--root", str(root), "--label-set", "iemocap4"])
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "utterances 5531" in out and "neu         1708" in out and "5           1241" in out
    assert "missing video" in out and "dropped    xxx 2507" in out
    assert "Ses02F_impro01.txt:" in out  # a problem shown with its file


@pytest.mark.parametrize(
    "args, message",
    [
        (["--corpus", "nocorpus"], "unknown corpus 'nocorpus'"),
        (["--corpus", "iemocap", "--label-set", "nolabels"], "unknown label set 'nolabels'"),
        (["--corpus", "iemocap", "--label-set", "meld7"], "is for corpus 'meld'"),
        (["--corpus", "iemocap", "--split", "shuffle"], "unknown split 'shuffle'"),
        (["--corpus", "iemocap", "--split", "session:7"], "unknown groups ['7']"),
    ],
)
def test_cli_errors_exit_2(root, args, message):
    r = runner.invoke(app, ["data", "stats", "--root", str(root), *args])
    assert r.exit_code == 2 and message in r.stderr, r.output


def test_cli_missing_root_exit_2(tmp_path):
    r = runner.invoke(app, ["data", "stats", "--corpus", "iemocap", "--root", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "IEMOCAP root not found" in r.stderr
