"""The shared text reader: byte-order marks, UTF-16/32, CR/LF/CRLF, binary refusal, and every reader through it."""

from __future__ import annotations

import codecs

import pytest

from emorec.data.records import Problem
from emorec.data.textfile import TextFileError, decode_text, read_lines, read_text, read_yaml

SAMPLE = "name,text\nAnna,Caf\u00e9 \u2019ok\u2019 \u20ac5\nBo,\u4f60\u597d\n"


def encode(text: str, encoding: str) -> bytes:
    """`text` in an encoding of the fuzz set; UTF-16/32 with their byte-order mark."""
    boms = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE,
            "utf-32-be": codecs.BOM_UTF32_BE}
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
