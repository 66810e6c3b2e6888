"""MELD reader on the real tables and on small look-alike trees with clip folders and damaged rows."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from emorec.corpora import meld
from emorec.corpora.corpora import read_corpus
from emorec.corpora.labels import get_label_set
from support.paths import SHARED_DATA as DATA

MELD = DATA / "meld"
HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime"


def _real():
    if not (MELD / "train_sent_emo.csv").is_file():
        pytest.skip(f"MELD tables not found in {MELD}")
    return MELD


def _column_counts(path: Path, column: str) -> Counter:
    with open(path, newline="", encoding="utf-8") as f:
        return Counter(row[column] for row in csv.DictReader(f))


def test_real_tables_counts_per_split_and_label():
    root = _real()
    data = meld.read(root)
    by_split = Counter(u.split for u in data.utterances)
    assert by_split == {"train": 9989, "dev": 1109, "test": 2610}
    for split in meld.SPLITS:
        expected = _column_counts(root / f"{split}_sent_emo.csv", "Emotion")
        got = Counter(u.label for u in data.utterances if u.split == split)
        assert got == expected, split
    assert Counter(u.group for u in data.utterances) == by_split
    assert [p.reason.split(":")[0] for p in data.problems] == ["clips absent"]
    assert len({u.utt_id for u in data.utterances}) == len(data.utterances)
    assert [u.order for u in data.utterances] == list(range(len(data.utterances)))
    first = data.utterances[0]
    assert (first.utt_id, first.speaker, first.dialog, first.label) == (
        "train_dia0_utt0",
        "Chandler",
        "train_dia0",
        "neutral",
    )
    assert first.text == "also I was the point person on my company\u2019s transition from the KL-5 to GR-6 system."
    assert first.video_path == first.audio_path == "" and first.start is None
    kept, dropped = get_label_set("meld7").apply(data.utterances)
    assert len(kept) == len(data.utterances) and not dropped


def test_real_tables_sentiment_target_and_registry():
    root = _real()
    data = read_corpus("meld", str(root), target="sentiment", clips=False)
    assert data.problems == []
    for split in meld.SPLITS:
        expected = _column_counts(root / f"{split}_sent_emo.csv", "Sentiment")
        assert Counter(u.label for u in data.utterances if u.split == split) == expected
    kept, dropped = get_label_set("meld_sentiment3").apply(data.utterances)
    assert len(kept) == 13708 and not dropped


def _write_table(path: Path, rows: list[str], crlf: bool = True, encoding_bytes: bytes | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    eol = "\r\n" if crlf else "\n"
    text = eol.join([HEADER] + rows) + eol
    path.write_bytes(text.encode("utf-8") if encoding_bytes is None else encoding_bytes)


def _row(n: int, text: str, speaker: str, emotion: str, sentiment: str, dia, utt) -> str:
    return f'{n},{text},{speaker},{emotion},{sentiment},{dia},{utt},1,1,"00:00:01,000","00:00:02,000"'


def _clip(folder: Path, name: str, size: int = 16):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"\0" * size)


def test_damaged_rows_are_reported_with_lines(tmp_path):
    rows = [
        _row(1, "Hi\u2019 there \u201cyou\u201d", "Ross", "joy", "positive", 0, 0),  # line 2
        _row(2, '"first line\r\nsecond line"', "Rachel", "anger", "negative", 0, 1),  # lines 3-4
        _row(3, "odd Â\x92 mojibake", "Joey", "Fear", "negative", 0, 2),  # line 5, label case differs
        _row(4, "bad label", "Joey", "happy", "positive", 0, 3),  # line 6
        _row(5, "bad id", "Joey", "joy", "positive", "x", 4),  # line 7
        "6,too,short",  # line 8
        _row(7, "again", "Ross", "joy", "positive", 0, 0),  # line 9: duplicate of line 2
        "",  # line 10 blank: ignored
        _row(8, "last", "Monica", "sadness", "negative", 1, 0),  # line 11
    ]
    _write_table(tmp_path / "train_sent_emo.csv", rows)
    _write_table(tmp_path / "dev_sent_emo.csv", [_row(1, "dev one", "Ross", "disgust", "negative", 0, 0)])
    data = meld.read(tmp_path)
    ids = [u.utt_id for u in data.utterances]
    assert ids == ["train_dia0_utt0", "train_dia0_utt1", "train_dia0_utt2", "train_dia1_utt0", "dev_dia0_utt0"]
    assert data.utterances[1].text == "first line\r\nsecond line"
    assert data.utterances[2].label == "fear" and "\x92" in data.utterances[2].text
    train = str(tmp_path / "train_sent_emo.csv")
    found = {(Path(p.file).name, p.line, p.reason.split(":")[0]) for p in data.problems}
    assert found == {
        ("train_sent_emo.csv", 6, "label"),
        ("train_sent_emo.csv", 7, "ids"),
        ("train_sent_emo.csv", 8, "fields"),
        ("train_sent_emo.csv", 9, "duplicate"),
        ("test_sent_emo.csv", 0, "missing file"),
        (tmp_path.name, 0, "clips absent"),
    }
    assert any(p.file == train and "line 2" in p.reason for p in data.problems if p.line == 9)


def test_bytes_that_are_not_utf8_are_read_and_reported(tmp_path):
    body = (HEADER + "\r\n" + _row(1, "It@s fine", "Ross", "joy", "positive", 0, 0) + "\r\n").encode()
    _write_table(tmp_path / "train_sent_emo.csv", [], encoding_bytes=body.replace(b"@", b"\x92"))
    data = meld.read(tmp_path, splits=("train",), clips=False)
    assert [u.text for u in data.utterances] == ["It\u2019s fine"]
    assert [(p.line, p.reason.split(":")[0]) for p in data.problems] == [(2, "encoding")]


def _clip_tree(root: Path, raw_layout: bool):
    """train: rows dia0_utt0..2 + dia1_utt0; clip dia0_utt1 missing, dia0_utt2 empty, dia5_utt5 orphan."""
    table_dir = root / "train" if raw_layout else root
    _write_table(
        table_dir / "train_sent_emo.csv",
        [
            _row(1, "a", "Ross", "joy", "positive", 0, 0),
            _row(2, "b", "Ross", "joy", "positive", 0, 1),
            _row(3, "c", "Ross", "anger", "negative", 0, 2),
            _row(4, "d", "Ross", "fear", "negative", 1, 0),
            _row(5, "e", "Ross", "nope", "negative", 1, 1),  # bad label: its clip is not an orphan
        ],
    )
    _write_table(
        (root / "dev" if raw_layout else root) / "dev_sent_emo.csv", [_row(1, "x", "Ross", "joy", "positive", 0, 0)]
    )
    _write_table(
        (root / "test" if raw_layout else root) / "test_sent_emo.csv", [_row(1, "y", "Ross", "joy", "positive", 3, 4)]
    )
    clips = (root / "train" if raw_layout else root) / "train_splits"
    for name in ("dia0_utt0.mp4", "dia1_utt0.mp4", "dia1_utt1.mp4", "dia5_utt5.mp4"):
        _clip(clips, name)
    _clip(clips, "dia0_utt2.mp4", size=0)
    _clip(clips, "._dia0_utt0.mp4")  # AppleDouble: ignored
    _clip(clips, "notes.mp4")
    _clip((root / "test" if raw_layout else root) / "output_repeated_splits_test", "dia3_utt4.mp4")
    return clips


@pytest.mark.parametrize("raw_layout", [False, True])
def test_clip_folders_missing_orphan_and_empty(tmp_path, raw_layout):
    clips = _clip_tree(tmp_path, raw_layout)
    data = read_corpus("meld", str(tmp_path))
    assert [u.utt_id for u in data.utterances] == [
        "train_dia0_utt0",
        "train_dia1_utt0",
        "dev_dia0_utt0",
        "test_dia3_utt4",
    ]
    first = data.utterances[0]
    assert first.video_path == first.audio_path == str(clips / "dia0_utt0.mp4")
    assert first.side == "full" and first.start is None and first.end is None
    assert data.utterances[2].video_path == ""  # dev has no clip folder: text only
    reasons = Counter(p.reason.split(":")[0] for p in data.problems)
    assert reasons == {"missing clip": 1, "empty clip": 1, "orphan clip": 2, "label": 1, "clips absent": 1}
    by_reason = {p.reason.split(":")[0]: p for p in data.problems}
    assert by_reason["missing clip"].line == 3 and "dia0_utt1.mp4" in by_reason["missing clip"].reason
    assert by_reason["empty clip"].line == 4
    orphans = sorted(Path(p.file).name for p in data.problems if p.reason.startswith("orphan"))
    assert orphans == ["dia5_utt5.mp4", "notes.mp4"]
    assert "dev" in by_reason["clips absent"].reason


def test_missing_clips_kept_as_text_and_text_only_mode(tmp_path):
    _clip_tree(tmp_path, raw_layout=False)
    kept = meld.read(tmp_path, missing_clips="keep", splits=("train",))
    assert [u.utt_id for u in kept.utterances] == [
        "train_dia0_utt0",
        "train_dia0_utt1",
        "train_dia0_utt2",
        "train_dia1_utt0",
    ]
    assert [bool(u.video_path) for u in kept.utterances] == [True, False, False, True]
    text_only = meld.read(tmp_path, clips=False)
    assert len(text_only.utterances) == 6
    assert all(not u.video_path for u in text_only.utterances)
    assert [p.reason.split(":")[0] for p in text_only.problems] == ["label"]


def test_bad_options_and_roots(tmp_path):
    with pytest.raises(ValueError, match="target"):
        meld.read(tmp_path, target="valence")
    with pytest.raises(FileNotFoundError, match="no MELD tables"):
        meld.read(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        meld.read(tmp_path / "nowhere")
    (tmp_path / "train_sent_emo.csv").write_text("a,b\r\n1,2\r\n")
    data = meld.read(tmp_path, splits=("train",))
    assert data.utterances == []
    assert [(p.line, p.reason.split(":")[0]) for p in data.problems] == [(0, "clips absent"), (1, "header")]


def test_csv_errors_do_not_stop_the_table(tmp_path):
    long_row = _row(1, '"' + "x" * 200_000 + '"', "Ross", "joy", "positive", 0, 0)  # over the csv field limit
    _write_table(
        tmp_path / "train_sent_emo.csv",
        [
            long_row,
            _row(2, "ok", "Ross", "joy", "positive", 0, 1),
            '3,"open quote,Ross,joy,positive,0,2,1,1,a,b',
            "4,swallowed,Ross,joy,positive,0,3,1,1,a,b",
        ],
    )
    data = meld.read(tmp_path, splits=("train",), clips=False)
    assert [u.utt_id for u in data.utterances] == ["train_dia0_utt1"]
    assert [(p.line, p.reason.split(":")[0]) for p in data.problems] == [(2, "csv"), (4, "fields")]
    assert "quote left open" in data.problems[1].reason
