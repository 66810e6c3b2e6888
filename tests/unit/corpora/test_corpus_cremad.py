"""CREMA-D reader on the real clip and tables, and on look-alike AudioWAV/VideoFlash/VideoMP4 trees."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest

from emorec.corpora import cremad
from emorec.corpora.corpora import read_corpus
from emorec.corpora.labels import get_label_set
from support.paths import SHARED_DATA as DATA

CREMAD = DATA / "cremad"


def _real() -> Path:
    if not (CREMAD / "1001_DFA_ANG_XX.flv").is_file():
        pytest.skip(f"CREMA-D clip not found in {CREMAD}")
    return CREMAD


def test_real_clip_folder():
    root = _real()
    data = read_corpus("cremad", str(root))
    assert data.problems == []
    [u] = data.utterances
    assert (u.utt_id, u.label, u.text) == ("1001_DFA_ANG_XX", "ANG", "Don't forget a jacket")
    assert (u.speaker, u.group, u.gender, u.script) == ("1001", "1001", "M", "DFA")
    assert u.video_path == u.audio_path == str(root / "1001_DFA_ANG_XX.flv") and u.sentence_wav == ""
    assert get_label_set("cremad6").to_class(u.label) == "ANG"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_name_of_the_real_corpus_table_is_read(tmp_path):
    """All 7,442 names of SentenceFilenames.csv as tiny wavs: none rejected, labels and genders as the tables say."""
    root = _real()
    names = [r["Filename"] for r in _rows(root / "SentenceFilenames.csv")]
    audio = tmp_path / "AudioWAV"
    audio.mkdir()
    for name in names:
        (audio / f"{name}.wav").write_bytes(b"\0" * 64)
    shutil.copy(root / "VideoDemographics.csv", tmp_path)
    data = cremad.read(tmp_path)
    assert data.problems == []
    assert len(data.utterances) == len(names) == 7442
    assert Counter(u.label for u in data.utterances) == Counter(n.split("_")[2] for n in names)
    sex = {r["ActorID"]: r["Sex"][0] for r in _rows(root / "VideoDemographics.csv")}
    assert all(u.gender == sex[u.speaker] for u in data.utterances)
    assert len({u.group for u in data.utterances}) == 91
    assert Counter(u.gender for u in {u.speaker: u for u in data.utterances}.values()) == {"M": 48, "F": 43}
    assert [u.utt_id for u in data.utterances] == sorted(names)
    kept, dropped = get_label_set("cremad6").apply(data.utterances)
    assert len(kept) == 7442 and not dropped


def _touch(path: Path, size: int = 100):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)


def test_audio_and_video_of_one_stem_are_paired(tmp_path):
    _touch(tmp_path / "AudioWAV" / "1002_IEO_HAP_HI.wav")
    _touch(tmp_path / "VideoFlash" / "1002_IEO_HAP_HI.flv")
    _touch(tmp_path / "AudioWAV" / "1002_TSI_SAD_XX.wav")  # audio only
    _touch(tmp_path / "VideoFlash" / "1003_WSI_NEU_XX.flv")  # video only
    _touch(tmp_path / "VideoFlash" / "1003_ITH_FEA_LO.flv")
    _touch(tmp_path / "VideoMP4" / "1003_ITH_FEA_LO.mp4")  # mp4 preferred over flv
    _touch(tmp_path / "AudioWAV" / "1004_MTI_DIS_MD.wav", size=44)  # header only
    _touch(tmp_path / "VideoFlash" / "1004_MTI_DIS_MD.flv")
    _touch(tmp_path / "AudioWAV" / "1005_MTI_SAD_XX.wav", size=0)  # nothing usable: skipped
    _touch(tmp_path / "AudioWAV" / "1005_XYZ_SAD_XX.wav")
    _touch(tmp_path / "AudioWAV" / "1005_MTI_JOY_XX.wav")
    _touch(tmp_path / "AudioWAV" / "1005_MTI_SAD_XXX.wav")
    _touch(tmp_path / "AudioWAV" / "1005_MTI_SAD_XX.flv")
    _touch(tmp_path / "1002_IEO_HAP_HI.wav")  # same clip again in the root
    (tmp_path / "VideoDemographics.csv").write_text(
        '"ActorID","Age","Sex","Race","Ethnicity"\n1002,21,"Female","Caucasian","Not Hispanic"\n'
        '1003,30,"Unknown","Asian","Not Hispanic"\n'
    )
    data = read_corpus("cremad", str(tmp_path))
    u = {x.utt_id: x for x in data.utterances}
    assert list(u) == ["1002_IEO_HAP_HI", "1002_TSI_SAD_XX", "1003_ITH_FEA_LO", "1003_WSI_NEU_XX", "1004_MTI_DIS_MD"]
    pair = u["1002_IEO_HAP_HI"]
    assert pair.video_path == str(tmp_path / "VideoFlash" / "1002_IEO_HAP_HI.flv")
    assert pair.audio_path == pair.sentence_wav == str(tmp_path / "AudioWAV" / "1002_IEO_HAP_HI.wav")
    assert (pair.label, pair.text, pair.gender) == ("HAP", "It's eleven o'clock", "F")
    assert u["1002_TSI_SAD_XX"].video_path == "" and u["1002_TSI_SAD_XX"].audio_path.endswith(".wav")
    assert u["1003_WSI_NEU_XX"].audio_path == u["1003_WSI_NEU_XX"].video_path
    assert u["1003_WSI_NEU_XX"].audio_path.endswith(".flv") and u["1003_WSI_NEU_XX"].gender == ""
    assert u["1003_ITH_FEA_LO"].video_path.endswith("VideoMP4/1003_ITH_FEA_LO.mp4")
    assert u["1004_MTI_DIS_MD"].audio_path.endswith(".flv") and u["1004_MTI_DIS_MD"].sentence_wav == ""
    assert [x.order for x in data.utterances] == list(range(5))
    problems = sorted((Path(p.file).name, p.line, p.reason.split(":")[0]) for p in data.problems)
    assert problems == [
        ("1002_IEO_HAP_HI.wav", 0, "duplicate"),
        ("1004_MTI_DIS_MD.wav", 0, "empty file"),
        ("1005_MTI_JOY_XX.wav", 0, "name"),
        ("1005_MTI_SAD_XX.flv", 0, "name"),
        ("1005_MTI_SAD_XX.wav", 0, "empty file"),
        ("1005_MTI_SAD_XXX.wav", 0, "name"),
        ("1005_XYZ_SAD_XX.wav", 0, "name"),
        ("VideoDemographics.csv", 3, "demographics"),
    ]


def test_missing_root_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        cremad.read(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no CREMA-D clips"):
        cremad.read(tmp_path)
