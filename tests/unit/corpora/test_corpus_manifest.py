"""Manifest reader: CSV and Parquet manifests with good and bad lines, label sets, folder discovery."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from emorec.corpora import manifest
from emorec.corpora.corpora import read_corpus
from support.paths import SHARED_DATA as DATA

LINES = [
    "path,start,end,label,text,speaker,group,split,side",  # 1
    "clips/a.mp4,0,1.5,happy,hello there,alice,g1,train,left",  # 2
    'clips/a.mp4,1:02.5,1:04,sad,"two\nlines",alice,g1,Train,right',  # 3-4
    "clips/b.wav,,,angry,,bob,,test,",  # 5
    "clips/missing.wav,,,happy,,bob,,test,",  # 6
    "clips/a.mp4,3,2,happy,,alice,,train,",  # 7: end before start
    "clips/a.mp4,abc,2,happy,,alice,,train,",  # 8: non-numeric
    "clips/b.wav,,,,,bob,,train,",  # 9: empty label
    "clips/a.mp4,0,1.5,sad,,alice,,train,",  # 10: same id as line 2
    "clips/notes.txt,,,happy,,bob,,train,",  # 11: not media
    "clips/a.mp4,,,happy,,bob,,train,centre",  # 12: bad side
    "clips/empty.wav,,,happy,,bob,,train,",  # 13: 0 bytes
    ",,,happy,,bob,,train,",  # 14: no path
    "",  # 15: blank
    "{absolute},,,neutral,,carol,,dev,",  # 16
]


def _tree(tmp_path: Path) -> Path:
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a.mp4", "b.wav", "notes.txt"):
        (clips / name).write_bytes(b"\0" * 32)
    (clips / "empty.wav").write_bytes(b"")
    elsewhere = tmp_path / "elsewhere" / "c.flac"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"\0" * 32)
    text = "\r\n".join(LINES).replace("{absolute}", str(elsewhere)) + "\r\n"
    (tmp_path / "manifest.csv").write_text(text, encoding="utf-8", newline="")
    return elsewhere


def test_csv_manifest_good_and_bad_lines(tmp_path):
    elsewhere = _tree(tmp_path)
    data = read_corpus("manifest", str(tmp_path))
    assert [u.utt_id for u in data.utterances] == [
        "clips__a_0-1500",
        "clips__a_62500-64000",
        "clips__b",
        "elsewhere__c",
    ]
    assert [(u.label, u.start, u.end) for u in data.utterances] == [
        ("happy", 0.0, 1.5),
        ("sad", 62.5, 64.0),
        ("angry", None, None),
        ("neutral", None, None),
    ]
    a, a2, b, c = data.utterances
    assert a.utt_id == "clips__a_0-1500" and a2.utt_id == "clips__a_62500-64000"
    assert a.video_path == a.audio_path == str(tmp_path / "clips" / "a.mp4")
    assert (a.side, a.speaker, a.group, a.split, a.text) == ("left", "alice", "g1", "train", "hello there")
    assert a2.text == "two\nlines" and a2.side == "right" and a2.split == "train"
    assert b.video_path == "" and b.audio_path == b.sentence_wav == str(tmp_path / "clips" / "b.wav")
    assert (b.group, b.side, b.split) == ("bob", "full", "test")  # group falls back to the speaker
    assert c.audio_path == str(elsewhere) and c.split == "dev" and c.sentence_wav == ""
    assert [u.order for u in data.utterances] == [0, 1, 2, 3]
    found = [(p.line, p.reason.split(":")[0]) for p in data.problems]
    assert found == [
        (6, "missing file"),
        (7, "times"),
        (8, "times"),
        (9, "label"),
        (10, "duplicate"),
        (11, "media"),
        (12, "side"),
        (13, "empty file"),
        (14, "path"),
    ]
    assert all(p.file == str(tmp_path / "manifest.csv") for p in data.problems)
    assert "missing.wav" in data.problems[0].reason and "'abc'" in data.problems[2].reason


def test_label_set_restricts_and_observed_set(tmp_path):
    _tree(tmp_path)
    everything = manifest.read(tmp_path / "manifest.csv")
    observed = manifest.observed_label_set(everything)
    assert observed.classes == ("angry", "happy", "neutral", "sad")
    only = manifest.read(tmp_path, label_set={"name": "two", "classes": ["happy", "sad"], "map": {"angry": "sad"}})
    assert [u.label for u in only.utterances] == ["happy", "sad", "angry"]
    extra = [p for p in only.problems if p not in everything.problems]
    assert [(p.line, p.reason.split(":")[0]) for p in extra] == [(16, "label")]


def test_parquet_manifest_lines_count_from_header(tmp_path):
    _tree(tmp_path)
    frame = pd.DataFrame(
        {
            "path": ["clips/a.mp4", "clips/b.wav", "clips/b.wav", "nope.mp4"],
            "start": [0.5, None, 2.0, None],
            "end": [2.0, None, 1.0, None],
            "label": ["happy", "sad", "sad", "sad"],
            "Speaker": ["alice", "bob", "bob", "bob"],
            "extra": [1, 2, 3, 4],
        }
    )
    frame.to_parquet(tmp_path / "list.parquet")
    data = manifest.read(tmp_path / "list.parquet")
    assert [(u.utt_id, u.start, u.end, u.speaker) for u in data.utterances] == [
        ("clips__a_500-2000", 0.5, 2.0, "alice"),
        ("clips__b", None, None, "bob"),
    ]
    assert [(p.line, p.reason.split(":")[0]) for p in data.problems] == [
        (1, "columns"),
        (4, "times"),
        (5, "missing file"),
    ]


def test_header_problems_and_discovery(tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest.csv"):
        manifest.read(tmp_path)
    (tmp_path / "list.txt").write_text("path,label\n")
    with pytest.raises(ValueError, match=".csv"):
        manifest.read(tmp_path / "list.txt")
    (tmp_path / "manifest.csv").write_text("file,emotion\nx.wav,happy\n")
    data = manifest.read(tmp_path)
    assert data.utterances == [] and [(p.line, p.reason.split(":")[0]) for p in data.problems] == [(1, "header")]
    (tmp_path / "manifest.csv").write_text("")
    assert manifest.read(tmp_path).problems[0].reason.startswith("empty file")


def test_times_in_clock_form():
    assert manifest._seconds("01:02:03,5") == pytest.approx(3723.5)
    assert manifest._seconds("2:03") == 123.0 and manifest._seconds("") is None
    for bad in ("nan", "inf", "1:xx", "--1"):
        with pytest.raises(ValueError):
            manifest._seconds(bad)


def test_manifest_over_real_clips(tmp_path):
    speech = DATA / "ravdess_speech" / "Actor_01"
    if not speech.is_dir():
        pytest.skip(f"{speech} not found")
    wavs = sorted(speech.glob("*.wav"))[:3]
    lines = ["path,label,speaker"] + [f"{w},{w.stem.split('-')[2]},actor01" for w in wavs]
    (tmp_path / "manifest.csv").write_text("\n".join(lines) + "\n")
    data = read_corpus("manifest", str(tmp_path / "manifest.csv"))
    assert data.problems == []
    assert [u.audio_path for u in data.utterances] == [str(w) for w in wavs]
    assert [u.utt_id for u in data.utterances] == [w.stem for w in wavs]
