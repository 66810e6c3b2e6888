"""The shared text reader: byte-order marks, UTF-16/32, CR/LF/CRLF, binary refusal, and every reader through it."""

from __future__ import annotations

import codecs

import pytest

from emorec.corpora.records import Problem
from emorec.corpora.textfile import TextFileError, decode_text, read_lines, read_text, read_yaml

SAMPLE = "name,text\nAnna,Caf\u00e9 \u2019ok\u2019 \u20ac5\nBo,\u4f60\u597d\n"


def encode(text: str, encoding: str) -> bytes:
    """`text` in an encoding of the fuzz set; UTF-16/32 with their byte-order mark."""
    boms = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }
    return boms.get(encoding, b"") + text.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_every_bom_and_line_end_gives_the_same_lines(tmp_path, encoding, eol):
    p = tmp_path / "t.csv"
    p.write_bytes(encode(SAMPLE.replace("\n", eol), encoding))
    problems: list[Problem] = []
    assert read_lines(p, problems) == SAMPLE.split("\n")
    assert problems == []
    assert read_text(p, keep_line_ends=True) == SAMPLE.replace("\n", eol)


def test_mixed_line_ends_and_line_numbers_of_cr_files():
    text = decode_text(b"a\rb\r\nc\nd").text
    assert text.replace("\r\n", "\n").replace("\r", "\n").split("\n") == ["a", "b", "c", "d"]
    problems: list[Problem] = []
    decode_text(b"ok\rcaf\xe9\rok\r", "f.txt", problems)  # CR-only Windows-1252: line 2 is reported
    assert [(p.line, p.reason.split(":")[0]) for p in problems] == [(2, "encoding")]


def test_utf16_without_bom_is_recognised_from_its_zero_bytes():
    for encoding in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        problems: list[Problem] = []
        got = decode_text(SAMPLE.replace("\u4f60\u597d", "ni hao").encode(encoding), "f.csv", problems)
        assert got.encoding == encoding.upper() and not got.bom and got.text.startswith("name,text\nAnna,Caf\u00e9")
        assert [p.reason for p in problems] == [f"encoding: no byte-order mark; read as {encoding.upper()}"]


def test_undecodable_bytes_name_the_encoding_byte_and_line(tmp_path):
    p = tmp_path / "bad16.srt"
    p.write_bytes(codecs.BOM_UTF16_LE + "1\n00:00:01,000\n".encode("utf-16-le") + b"\x00\xdc" + b"x")  # lone surrogate
    with pytest.raises(TextFileError) as e:
        read_text(p)
    assert e.value.line == 3 and "UTF-16-LE" in e.value.reason and "byte 32" in e.value.reason
    assert "byte-order mark" in e.value.reason and str(e.value).startswith(f"{p}:3:")
    problems: list[Problem] = []
    text = read_text(p, problems)  # lenient: replaced and reported, the rest kept
    assert text.startswith("1\n00:00:01,000\n\ufffd")
    assert [(x.line, x.reason.split(":")[0]) for x in problems] == [(3, "encoding"), (3, "encoding")]
    p.write_bytes(codecs.BOM_UTF32_BE + b"\x00\x00\x00a\x00\x11\x00\x00")  # beyond U+10FFFF
    with pytest.raises(TextFileError, match=r"not valid UTF-32-BE at byte 8 .*byte-order mark"):
        read_text(p)


def test_binary_files_are_refused_with_the_kind_and_place(tmp_path):
    cases = {
        "image.csv": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "a PNG image"),
        "sheet.csv": (b"PK\x03\x04" + b"\x14\x00" * 40, "a ZIP archive"),
        "clip.srt": (b"\x00\x00\x00\x18ftypmp42" + bytes(64), "MP4"),
        "noise.txt": (b"line one\nline two\n" + bytes(range(256)) * 4, "a NUL byte at byte 18"),
    }
    for name, (raw, kind) in cases.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(TextFileError, match="binary content") as e:
            read_text(tmp_path / name, [])
        assert kind in e.value.reason and e.value.file == str(tmp_path / name)
    with pytest.raises(TextFileError) as e:
        read_text(tmp_path / "noise.txt")
    assert e.value.line == 3
    with pytest.raises(TextFileError, match="cannot read"):
        read_text(tmp_path / "absent.txt")


def test_a_stray_nul_costs_its_line_only_when_lenient():
    problems: list[Problem] = []
    assert decode_text(b"a,b\n1,\x002\n3,4\n", "t.csv", problems).text == "a,b\n\n3,4\n"
    assert [(p.line, p.reason.split(":")[0]) for p in problems] == [(2, "binary bytes")]
    with pytest.raises(TextFileError) as e:
        decode_text(b"a,b\n1,\x002\n3,4\n", "t.csv")
    assert e.value.line == 2


def test_windows_1252_lines_are_capped_in_the_report():
    problems: list[Problem] = []
    text = decode_text(b"caf\xe9\n" * 50, "t.txt", problems).text
    assert text.split("\n")[:2] == ["caf\u00e9", "caf\u00e9"]
    assert len(problems) == 21 and problems[-1].reason.startswith("encoding: 30 more lines")


def test_yaml_in_any_encoding_and_its_errors_name_the_line(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_bytes(encode("name: caf\u00e9\r\nclasses: [a, b]\r\n", "utf-16-le"))
    assert read_yaml(p) == {"name": "caf\u00e9", "classes": ["a", "b"]}
    p.write_bytes(b"name: x\rclasses: [a, b\rmap: {}\r")
    with pytest.raises(TextFileError) as e:
        read_yaml(p)
    assert e.value.line == 3 and "invalid YAML" in e.value.reason


# ---- the cases that used to go wrong, reader by reader ----

EVAL = (
    "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
    "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\nC-E2:\tNeutral;\t()\n\n"
    "[10.0100 - 11.3925]\tSes01F_impro01_F001\tfru\t[0.5000, 5.5000, 2.0000]\nC-E1:\tFrustration; Other;\t()\n"
)
TRANS = "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\nSes01F_impro01_F001 [010.0100-011.3925]: Yeah.\n"


@pytest.mark.parametrize("how", ["cr", "utf-16", "utf-16-be", "utf-32"])
def test_iemocap_files_with_cr_line_ends_or_utf16_keep_every_utterance(tmp_path, how):
    from emorec.corpora.iemocap import read

    def raw(text: str) -> bytes:
        if how == "cr":
            return text.replace("\n", "\r").encode()
        return encode(text.replace("\n", "\r\n"), {"utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(how, how))

    session = tmp_path / "IEMOCAP_full_release" / "Session1" / "dialog"
    for folder, text in (("EmoEvaluation", EVAL), ("transcriptions", TRANS)):
        (session / folder).mkdir(parents=True)
        (session / folder / "Ses01F_impro01.txt").write_bytes(raw(text))
    data = read(tmp_path)
    assert [(u.utt_id, u.label, u.text) for u in data.utterances] == [
        ("Ses01F_impro01_F000", "neu", "Excuse me."),
        ("Ses01F_impro01_F001", "fru", "Yeah."),
    ]
    assert data.utterances[1].evaluators == ["C-E1:Frustration", "C-E1:Other"]
    assert {p.reason.split(":")[0] for p in data.problems} <= {
        "missing video",
        "missing dialog wav",
        "missing sentence wav",
    }


def test_utf16_subtitles_are_cues_not_binary(tmp_path):
    from emorec.inference.segment import SegmentFileError, read_segments_file

    srt = (
        "1\r\n00:00:01,000 --> 00:00:02,500\r\nCaf\u00e9 \u2014 ok\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nBye\r\n"
    )
    for encoding in ("utf-16-le", "utf-16-be", "utf-32-le"):
        (tmp_path / "a.srt").write_bytes(encode(srt, encoding))
        assert [(s.start, s.end, s.text) for s in read_segments_file(tmp_path / "a.srt")] == [
            (1.0, 2.5, "Caf\u00e9 \u2014 ok"),
            (3.0, 4.0, "Bye"),
        ]
    (tmp_path / "b.vtt").write_bytes(b"WEBVTT\r\r00:01.000 --> 00:02.000\rHi\r")  # CR only
    assert [s.text for s in read_segments_file(tmp_path / "b.vtt")] == ["Hi"]
    (tmp_path / "c.srt").write_bytes(codecs.BOM_UTF16_LE + srt.encode("utf-16-le")[:-1])  # cut mid-character
    with pytest.raises(SegmentFileError, match=r"c.srt:8: not valid UTF-16-LE at byte \d+ \(truncated data\)"):
        read_segments_file(tmp_path / "c.srt")
    (tmp_path / "d.srt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(SegmentFileError, match="d.srt: not a text file: binary content .a PNG image"):
        read_segments_file(tmp_path / "d.srt")


def test_tables_and_yaml_files_in_utf16_and_binary_ones_reported(tmp_path):
    from emorec.config import load_config
    from emorec.corpora import manifest, meld
    from emorec.corpora.labels import get_label_set

    (tmp_path / "a.wav").write_bytes(b"RIFF" + bytes(60))
    (tmp_path / "manifest.csv").write_bytes(encode("path,label,text\r\na.wav,happy,Caf\u00e9\r\n", "utf-16-le"))
    assert [(u.label, u.text) for u in manifest.read(tmp_path).utterances] == [("happy", "Caf\u00e9")]
    (tmp_path / "manifest.csv").write_bytes(b"PK\x03\x04" + bytes(200))  # an .xlsx saved under a .csv name
    data = manifest.read(tmp_path)
    assert data.utterances == [] and [p.reason[:39] for p in data.problems] == [
        "unreadable file: binary content (a ZIP "
    ]
    header = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID\r"
    (tmp_path / "train_sent_emo.csv").write_bytes(
        encode(header + "1,Hi \u2019there\u2019,Ross,joy,positive,0,0\r", "utf-32-be")
    )
    assert [u.text for u in meld.read(tmp_path, clips=False, splits=["train"]).utterances] == ["Hi \u2019there\u2019"]
    (tmp_path / "labels.yaml").write_bytes(encode("classes: [a, b]\r\nmap: {x: a}\r\n", "utf-16-be"))
    assert get_label_set(str(tmp_path / "labels.yaml")).classes == ("a", "b")
    (tmp_path / "exp.yaml").write_bytes(encode("name: t\ncorpus: {root: /d}\n", "utf-16-le"))
    assert load_config(str(tmp_path / "exp.yaml")).corpus.root == "/d"
