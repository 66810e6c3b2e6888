"""Utterance segmentation: subtitles, transcripts, speech detection, fixed windows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emorec.inference.segment import (
    Segment,
    SegmentFileError,
    VadConfig,
    clip_to_duration,
    fixed_windows,
    read_segments_file,
    read_subtitles,
    read_transcript,
    speech_segments,
)

SRT = """1
00:00:01,000 --> 00:00:02,500
<i>Hello</i> there,
<font color="#ff0000">friend</font>!

2
00:00:03,000 --> 00:00:04,250 X1:0 X2:100
{\\an8}I am &amp; was here.

3
00:01:00.5 --> 00:01:02,000
Third"""


def test_srt_with_bom_crlf_markup_and_no_final_blank(tmp_path):
    p = tmp_path / "a.srt"
    p.write_bytes(b"\xef\xbb\xbf" + SRT.replace("\n", "\r\n").encode("utf-8"))
    segs = read_subtitles(p)
    assert [(s.start, s.end) for s in segs] == [(1.0, 2.5), (3.0, 4.25), (60.5, 62.0)]
    assert segs[0].text == "Hello there, friend!"
    assert segs[1].text == "I am & was here."
    assert segs[2].text == "Third"
    assert all(s.side is None for s in segs)


def test_vtt_voice_tags_notes_and_short_timestamps(tmp_path):
    p = tmp_path / "a.vtt"
    p.write_text(
        "WEBVTT - demo\n\nNOTE a comment\nspanning lines\n\nSTYLE\n::cue { color: red }\n\n"
        "intro\n00:01.000 --> 00:02.000 align:start position:10%\n<v Roger>Hi <b>you</b></v>\n\n"
        "00:00:03.000 --> 00:00:05.000\n<c.loud>Bye</c> <00:00:04.000>now\n"
    )
    segs = read_subtitles(p)
    assert [(s.start, s.end, s.text) for s in segs] == [(1.0, 2.0, "Hi you"), (3.0, 5.0, "Bye now")]


def test_malformed_cue_names_file_and_line(tmp_path):
    p = tmp_path / "bad.srt"
    p.write_text("1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 -> 00:00:04,000\nbroken\n")
    with pytest.raises(SegmentFileError) as e:
        read_subtitles(p)
    assert e.value.line == 5 and "bad.srt:5" in str(e.value)
    p.write_text("1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:05,000 --> 00:00:04,000\nbackwards\n")
    with pytest.raises(SegmentFileError, match=r"bad.srt:6: cue ends"):
        read_subtitles(p)
    p.write_text("1\n00:00:01,xx0 --> 00:00:02,000\nok\n")
    with pytest.raises(SegmentFileError, match=r"bad.srt:2: malformed cue timing"):
        read_subtitles(p)
    p.write_text("")
    with pytest.raises(SegmentFileError, match="no subtitle cues"):
        read_subtitles(p)
    p.write_bytes(b"\x00\x01binary\x00")
    with pytest.raises(SegmentFileError, match="binary"):
        read_subtitles(p)


def test_transcript_json_and_csv(tmp_path):
    j = tmp_path / "t.json"
    j.write_text(
        json.dumps({"segments": [{"start": 0.5, "end": 1.5, "text": " hi ", "side": "LEFT"}, {"start": 2, "end": 3}]})
    )
    segs = read_transcript(j)
    assert segs == [Segment(0.5, 1.5, "hi", "left"), Segment(2.0, 3.0, None, None)]
    c = tmp_path / "t.csv"
    c.write_text('Start,End,Text,Side\n0,1.25,"Hello, you",right\n1.5,2,,auto\n')
    assert read_segments_file(c) == [Segment(0.0, 1.25, "Hello, you", "right"), Segment(1.5, 2.0, None, None)]
    c.write_text("start,end,text\n0,1,a\n2,oops,b\n")
    with pytest.raises(SegmentFileError, match=r"t.csv:3: 'end' is not a number"):
        read_transcript(c)
    c.write_text("begin,stop\n0,1\n")
    with pytest.raises(SegmentFileError, match=r"t.csv:1: header needs"):
        read_transcript(c)
    j.write_text('[{"start": 1, "end": 0.5}]')
    with pytest.raises(SegmentFileError, match="segment #1: bad time window"):
        read_transcript(j)
    j.write_text('[{"start": 1,')
    with pytest.raises(SegmentFileError, match="invalid JSON"):
        read_transcript(j)
    with pytest.raises(SegmentFileError, match="unsupported segment file"):
        read_segments_file(tmp_path / "x.txt")


def test_fixed_windows_cover_duration():
    w = fixed_windows(9.2, 3.0)
    assert [(s.start, s.end) for s in w] == [(0.0, 3.0), (3.0, 6.0), (6.0, 9.2)]  # the 0.2 s tail joins the last
    assert [(s.start, s.end) for s in fixed_windows(7.0, 3.0)] == [(0.0, 3.0), (3.0, 6.0), (6.0, 7.0)]
    assert fixed_windows(0.0, 3.0) == []
    with pytest.raises(ValueError):
        fixed_windows(5.0, 0)


def _tone_bursts(sr, spans, total, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.002, int(total * sr)).astype(np.float32)  # quiet room noise
    t = np.arange(len(x)) / sr
    for a, b in spans:
        m = (t >= a) & (t < b)
        x[m] += 0.3 * np.sin(2 * np.pi * 220 * t[m]) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t[m]))
    return x


def test_vad_finds_bursts_merges_gaps_drops_clicks_and_splits_long():
    sr = 16000
    x = _tone_bursts(sr, [(1.0, 2.0), (2.2, 3.0), (5.0, 6.5), (8.0, 8.1)], 10.0)
    segs = speech_segments(x, sr, VadConfig(pad_s=0.0))
    spans = [(s.start, s.end) for s in segs]
    assert len(spans) == 2, spans  # the 0.2 s gap is merged, the 0.1 s click dropped
    assert abs(spans[0][0] - 1.0) < 0.05 and abs(spans[0][1] - 3.0) < 0.06
    assert abs(spans[1][0] - 5.0) < 0.05 and abs(spans[1][1] - 6.5) < 0.06
    long = _tone_bursts(sr, [(0.5, 25.5)], 26.0)
    parts = speech_segments(long, sr, VadConfig(max_segment_s=10.0, pad_s=0.0))
    assert len(parts) == 3 and all(p.duration <= 10.0 + 1e-6 for p in parts)
    assert abs(parts[0].start - 0.5) < 0.05 and abs(parts[-1].end - 25.5) < 0.06
    assert speech_segments(np.zeros(sr * 3, np.float32), sr) == []  # digital silence: no speech
    stereo = np.stack([x, x])
    assert [(s.start, s.end) for s in speech_segments(stereo, sr, VadConfig(pad_s=0.0))] == spans


def test_clip_to_duration():
    segs = [Segment(-1, 2, "a"), Segment(3, 9, None, "left"), Segment(11, 12)]
    assert clip_to_duration(segs, 10) == [Segment(0, 2, "a"), Segment(3, 9, None, "left")]


def test_cue_times_with_impossible_seconds_are_refused(tmp_path):
    for bad in ("00:00:99,000 --> 00:01:00,000", "00:75:00,000 --> 00:76:00,000", "00:00:01,000 --> 00:00:61,500"):
        path = tmp_path / "bad.srt"
        path.write_text(f"1\n{bad}\nHello\n", encoding="utf-8")
        with pytest.raises(SegmentFileError, match=r"bad.srt:2: .*minutes and seconds must be below 60"):
            read_subtitles(path)


def test_cues_past_the_end_are_counted_in_a_warning(tmp_path):
    from emorec.inference.media import MediaInfo
    from emorec.inference.segmenter import Segmenter, SpeechOptions

    path = tmp_path / "long.srt"
    path.write_text(
        "1\n00:00:00,500 --> 00:00:01,500\nin\n\n2\n00:00:05,000 --> 00:00:06,000\nout\n\n"
        "3\n00:00:07,000 --> 00:00:08,000\nout\n",
        encoding="utf-8",
    )
    seg = Segmenter(16000, VadConfig(), reads_text=False)
    info = MediaInfo(str(tmp_path / "clip.mp4"), 3.0, True, True)
    segments, how, warnings = seg.segments(info, path, read_subtitles(path), None, None, {}, SpeechOptions())
    assert [s.text for s in segments] == ["in"] and how == "subtitles"
    assert warnings == ["long.srt: 2 of 3 cue(s) start after the video's end (3.0 s) and were left out"]
