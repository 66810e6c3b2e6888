"""Parsers of user text run in linear time: 100k-character lines of spaces, digits, brackets and markup parse in
well under a second, and four times the line takes about four times as long (not sixteen)."""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emorec.corpora import iemocap, manifest
from emorec.inference.segment import SegmentFileError, clean_cue_text, read_subtitles
from emorec.inputs.tokens import clean_text

TURN = "Ses01F_impro01_F000"
UNITS = [" ", "\t", "1", "1.", "[", "]", "(", "()", "<", "<v ", "{\\", ":", "-", "-->", "[a ", "a", ",", "1:", "[1 -"]
HEAD = f"[1.0 - 2.0]\t{TURN}\tneu\t["
PREFIXES = {  # per parser: line starts that take its patterns deep into a line before it fails
    "iemocap_evaluation": ["", "[", "[1", HEAD, "C-E1:\t", "C-E1:\tNeutral;\t("],
    "iemocap_transcription": ["", TURN, TURN + " ", TURN + " [", TURN + " [1", TURN + " [1.0-"],
    "subtitles": ["", "<", "<v ", "{\\", "00:00:01,000 --> ", "00:00:01,000"],
    "cue_text": ["", "<", "<v ", "<v.a ", "{\\", "&"],
    "transcript_tags": ["", "[", "[a", "[ a", "[a-"],
    "manifest": ["", "1", "1:", "1:2:", "1:2."],
}


def _iemocap_evaluation(line: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Ses01F_impro01.txt"
        path.write_text(line, encoding="utf-8")
        iemocap.parse_emo_evaluation(path, "Ses01F_impro01", set(), [])


def _iemocap_transcription(line: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Ses01F_impro01.txt"
        path.write_text(line, encoding="utf-8")
        iemocap.parse_transcription(path, {TURN}, [])


def _subtitles(line: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.srt"
        path.write_text(f"1\n00:00:01,000 --> 00:00:02,000\n{line}\n\n2\n{line}\n", encoding="utf-8")
        with contextlib.suppress(SegmentFileError):
            read_subtitles(path)


def _manifest(line: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "a.wav").write_bytes(b"RIFF" + bytes(60))
        path = Path(tmp) / "manifest.tsv"
        path.write_text(f"path\tlabel\tstart\tend\ta.wav\tx\t{line}\t{line}\n".replace("\ta.wav", "\na.wav"))
        manifest.read(path)


PARSERS = {
    "iemocap_evaluation": _iemocap_evaluation,
    "iemocap_transcription": _iemocap_transcription,
    "subtitles": _subtitles,
    "cue_text": lambda line: clean_cue_text([line]),
    "transcript_tags": lambda line: (clean_text(line, tags="map"), clean_text(line, tags="remove")),
    "manifest": _manifest,
}


def _seconds(parse, line: str) -> float:
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        parse(line)
        best = min(best, time.perf_counter() - t0)
    return best


def _line(prefix: str, unit: str, n: int) -> str:
    return prefix + unit * (n // len(unit)) + "x"


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_long_line_parses_well_under_a_second(name):
    parse = PARSERS[name]
    for prefix in PREFIXES[name]:
        for unit in UNITS:
            line = _line(prefix, unit, 100_000)
            t0 = time.perf_counter()
            parse(line)
            assert time.perf_counter() - t0 < 0.25, f"{name}: {prefix!r} + {unit!r} * {100_000 // len(unit)}"


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parse_time_grows_linearly_with_the_line(name, data):
    parse = PARSERS[name]
    prefix = data.draw(st.sampled_from(PREFIXES[name]), label="prefix")
    unit = data.draw(st.sampled_from(UNITS), label="unit")
    small, large = _seconds(parse, _line(prefix, unit, 50_000)), _seconds(parse, _line(prefix, unit, 200_000))
    assert large < 10 * small + 0.05, f"{name}: 50k chars {small:.4f} s, 200k chars {large:.4f} s"


def test_the_reported_transcription_case_is_fast_and_parsed_as_before(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(
        TURN
        + " " * 60_000
        + "hello\n"
        + TURN
        + " " * 60_000
        + ": hello\n"
        + TURN.replace("F000", "F001")
        + " [1.5-2.5]:  hi \n"
        + TURN.replace("F000", "F002")
        + " [LAUGHTER] : ha\n"
        + TURN.replace("F000", "F003")
        + " [1.5-2.5\n"
    )
    problems = []
    t0 = time.perf_counter()
    texts = iemocap.parse_transcription(path, {TURN, TURN[:-1] + "1", TURN[:-1] + "2", TURN[:-1] + "3"}, problems)
    assert time.perf_counter() - t0 < 0.5
    assert texts == {TURN: "hello", TURN[:-1] + "1": "hi", TURN[:-1] + "2": "ha"}
    assert [(p.line, p.reason.split(":")[0]) for p in problems] == [
        (1, "unparsable transcript line"),
        (2, "transcript time unusable"),
        (4, "transcript time unusable"),
        (5, "unparsable transcript line"),
    ]
