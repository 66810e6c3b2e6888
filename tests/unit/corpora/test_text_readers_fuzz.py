"""Every text reader, fuzzed: the same content in any encoding (UTF-8 with or without BOM, UTF-16/32 LE/BE with
BOM, Windows-1252) and with any line ends (LF, CRLF, CR) gives the same records and problems, in bounded time."""

from __future__ import annotations

import codecs
import csv
import io
import json
import string
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emorec.corpora import cremad, iemocap, manifest, meld
from emorec.corpora.labels import get_label_set
from emorec.corpora.splits import load_split_spec
from emorec.inference.segment import read_segments_file

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp1252"]
EOLS = ["\n", "\r\n", "\r"]
BOMS = {
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}
# every character is in Windows-1252, and its non-ASCII ones are bytes 0x80-0xBF there (never valid UTF-8 alone)
ALPHABET = string.ascii_letters + string.digits + " .,!?'" + "\u2019\u201c\u201d\u2026\u20ac\u00a3\u00b0\u00a9"
WORD = st.text(ALPHABET, min_size=1, max_size=10).map(str.strip).filter(bool)
PHRASE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
SECONDS = st.integers(0, 5000).map(lambda ms: ms / 100)


def encode(text: str, encoding: str, eol: str) -> bytes:
    return BOMS.get(encoding, b"") + text.replace("\n", eol).encode(encoding)


def _csv(rows: list[list], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _problems(data, root: Path) -> list[tuple]:
    """Problems other than encoding notes (a Windows-1252 file reports its non-UTF-8 lines)."""
    return sorted(
        (str(Path(p.file).relative_to(root)) if p.file.startswith(str(root)) else p.file, p.line, p.reason)
        for p in data.problems
        if not p.reason.startswith("encoding:")
    )


# ---- each reader: a content strategy, the files it becomes, and the records read back ----


@st.composite
def iemocap_content(draw):
    turns = []
    for k in range(draw(st.integers(1, 4))):
        start = draw(SECONDS)
        turn = f"Ses01F_impro01_{draw(st.sampled_from('FM'))}{k:03d}"
        turns.append(
            (
                turn,
                draw(st.sampled_from(["neu", "ang", "xxx"])),
                start,
                start + draw(SECONDS),
                draw(PHRASE),
                draw(st.sampled_from(["Neutral", "Anger", "Other"])),
            )
        )
    return turns


def iemocap_files(turns) -> dict[str, str]:
    ev = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    tr = []
    for utt, label, a, b, text, vote in turns:
        ev += [f"[{a:.4f} - {b:.4f}]\t{utt}\t{label}\t[2.5000, 2.5000, 2.5000]", f"C-E1:\t{vote};\t({text})", ""]
        tr.append(f"{utt} [{a:08.4f}-{b:08.4f}]: {text}")
    tr.append("Ses01F_impro01_MXX0 [001.0000-002.0000]: [BREATHING]")
    base = "IEMOCAP_full_release/Session1/dialog"
    return {
        f"{base}/EmoEvaluation/Ses01F_impro01.txt": "\n".join(ev),
        f"{base}/transcriptions/Ses01F_impro01.txt": "\n".join(tr) + "\n",
    }


def iemocap_records(root: Path):
    data = iemocap.read(root)
    return [(u.utt_id, u.label, u.start, u.end, u.text, u.evaluators) for u in data.utterances], _problems(data, root)


@st.composite
def meld_content(draw):
    return [
        (draw(PHRASE), draw(WORD), draw(st.sampled_from(meld.EMOTIONS + ("bored",))))
        for _ in range(draw(st.integers(1, 5)))
    ]


def meld_files(rows) -> dict[str, str]:
    table = [["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID"]]
    table += [[i + 1, text, speaker, emotion, "neutral", 0, i] for i, (text, speaker, emotion) in enumerate(rows)]
    return {"train_sent_emo.csv": _csv(table)}


def meld_records(root: Path):
    data = meld.read(root, clips=False, splits=["train"])
    return [(u.utt_id, u.label, u.text, u.speaker) for u in data.utterances], _problems(data, root)


@st.composite
def cremad_content(draw):
    return [draw(st.sampled_from(["Male", "Female", "Unknown"])) for _ in range(draw(st.integers(1, 4)))]


def cremad_files(sexes) -> dict[str, str]:
    table = [["ActorID", "Age", "Sex", "Race", "Ethnicity"]]
    table += [[1001 + i, 30, s, "x", "y"] for i, s in enumerate(sexes)]
    return {"VideoDemographics.csv": _csv(table)}


def cremad_records(root: Path):
    audio = root / "AudioWAV"
    audio.mkdir(exist_ok=True)
    for actor in range(1001, 1005):
        (audio / f"{actor}_DFA_ANG_XX.wav").write_bytes(b"RIFF" + bytes(60))
    data = cremad.read(root)
    return [(u.utt_id, u.gender) for u in data.utterances], _problems(data, root)


@st.composite
def manifest_content(draw):
    return [
        (draw(WORD), draw(PHRASE), draw(WORD), draw(st.sampled_from(["", "1.5", "0:01.25", "x"])))
        for _ in range(draw(st.integers(1, 5)))
    ], draw(st.sampled_from([",", "\t"]))


def manifest_files(content) -> dict[str, str]:
    rows, delimiter = content
    table = [["path", "label", "text", "speaker", "start"]]
    table += [[f"clip{i}.wav", label, text, speaker, start] for i, (label, text, speaker, start) in enumerate(rows)]
    return {"manifest.tsv" if delimiter == "\t" else "manifest.csv": _csv(table, delimiter)}


def manifest_records(root: Path):
    for i in range(5):
        (root / f"clip{i}.wav").write_bytes(b"RIFF" + bytes(60))
    data = manifest.read(root)
    return [(u.utt_id, u.label, u.text, u.speaker, u.start) for u in data.utterances], _problems(data, root)


@st.composite
def label_content(draw):
    classes = draw(st.lists(WORD, min_size=1, max_size=4, unique=True))
    return {"name": draw(WORD), "classes": classes, "map": {draw(WORD) + "_code": classes[0]}}


def label_files(spec) -> dict[str, str]:
    return {"labels.yaml": yaml.safe_dump(spec, allow_unicode=True)}


def label_records(root: Path):
    return get_label_set(str(root / "labels.yaml")).to_dict()


@st.composite
def cue_content(draw):
    cues = []
    for _ in range(draw(st.integers(1, 4))):
        start = draw(SECONDS)
        cues.append((start, start + 0.01 + draw(SECONDS), draw(st.lists(PHRASE, min_size=1, max_size=2))))
    return cues, draw(st.sampled_from(["srt", "vtt", "csv", "json"]))


def _stamp(t: float, sep: str) -> str:
    ms = round(t * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def cue_files(content) -> dict[str, str]:
    cues, kind = content
    if kind == "csv":
        return {"cues.csv": _csv([["start", "end", "text"]] + [[a, b, " ".join(t)] for a, b, t in cues])}
    if kind == "json":
        return {
            "cues.json": json.dumps(
                [{"start": a, "end": b, "text": " ".join(t)} for a, b, t in cues], ensure_ascii=False, indent=1
            )
        }
    sep = "," if kind == "srt" else "."
    blocks = [
        (f"{i + 1}\n" if kind == "srt" else "") + f"{_stamp(a, sep)} --> {_stamp(b, sep)}\n" + "\n".join(t)
        for i, (a, b, t) in enumerate(cues)
    ]
    return {f"cues.{kind}": ("WEBVTT\n\n" if kind == "vtt" else "") + "\n\n".join(blocks) + "\n"}


def cue_records(root: Path):
    (path,) = root.glob("cues.*")
    return [s.to_dict() for s in read_segments_file(path)]


@st.composite
def config_content(draw):
    return {
        "name": draw(WORD),
        "corpus": {"name": "iemocap", "root": draw(PHRASE)},
        "split": {"kind": "session", "test_groups": [draw(WORD)]},
        "preprocess": {"frame_size": 64},
    }


def config_files(raw) -> dict[str, str]:
    return {
        "experiment.yaml": yaml.safe_dump(raw, allow_unicode=True),
        "split.yaml": yaml.safe_dump({"split": raw["split"]}, allow_unicode=True),
    }


def config_records(root: Path):
    from emorec.config import load_config
    from emorec.preprocess.config import load_config as load_preprocess_config

    cfg = load_config(str(root / "experiment.yaml"))
    return (
        cfg.model_dump(mode="json"),
        load_preprocess_config(root / "experiment.yaml").model_dump(mode="json"),
        load_split_spec(str(root / "split.yaml")).model_dump(mode="json"),
    )


READERS = {
    "iemocap": (iemocap_content(), iemocap_files, iemocap_records),
    "meld": (meld_content(), meld_files, meld_records),
    "cremad": (cremad_content(), cremad_files, cremad_records),
    "manifest": (manifest_content(), manifest_files, manifest_records),
    "label_set": (label_content(), label_files, label_records),
    "subtitles_transcripts": (cue_content(), cue_files, cue_records),
    "configs": (config_content(), config_files, config_records),
}


def _read_as(files: dict[str, str], reader, encoding: str, eol: str):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(encode(text, encoding, eol))
        t0 = time.perf_counter()
        records = reader(root)
        return records, time.perf_counter() - t0


@pytest.mark.parametrize("name", sorted(READERS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_same_content_same_records_in_any_encoding_and_line_ends(name, data):
    content, files_of, reader = READERS[name]
    files = files_of(data.draw(content, label="content"))
    encoding = data.draw(st.sampled_from(ENCODINGS), label="encoding")
    eol = data.draw(st.sampled_from(EOLS), label="eol")
    reference, _ = _read_as(files, reader, "utf-8", "\n")
    got, seconds = _read_as(files, reader, encoding, eol)
    assert got == reference
    assert seconds < 1.0, f"{name} took {seconds:.2f} s on a few lines"
