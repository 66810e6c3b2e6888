"""Cut a video into utterances: from subtitles (SRT/VTT), a transcript (JSON/CSV), speech activity, or fixed windows."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

SIDES = ("left", "right", "full")


@dataclass
class Segment:
    """One utterance to classify: a time window in seconds, its text (None = no transcript) and speaker side."""

    start: float
    end: float
    text: str | None = None
    side: str | None = None  # 'left' / 'right' / 'full'; None = decide from the video

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        return asdict(self)


class SegmentFileError(ValueError):
    """A subtitle or transcript file that cannot be read; the message names the file and line."""

    def __init__(self, file, line: int, reason: str):
        self.file, self.line, self.reason = str(file), line, reason
        super().__init__(f"{file}:{line}: {reason}" if line else f"{file}: {reason}")


# ---------------------------------------------------------------- subtitles (SRT / WebVTT)

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
# markup: none of these classes holds its own opening character, so a long unclosed '<<<...' or '{\\{\\...'
# is scanned once, not once per opening (linear time)
_TAG = re.compile(r"<[^<>]*>")  # <i>, </b>, <font ...>, <v Name>, <c.cls>, <00:00:01.000>
_ASS = re.compile(r"\{\\[^{}]*\}")  # {\an8}
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s([^<>]+)>")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": " ", "&lrm;": "", "&rlm;": ""}


def _seconds(groups) -> float:
    h, m, s, frac = groups
    frac = (frac or "0").ljust(3, "0")
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac) / 1000.0


def clean_cue_text(lines: list[str]) -> str:
    """Cue text without markup: tags, ASS overrides, entities, line breaks -> one line."""
    text = " ".join(line.strip() for line in lines if line.strip())
    text = _ASS.sub("", _TAG.sub("", text))
    for k, v in _ENTITIES.items():
        text = text.replace(k, v)
    return re.sub(r"\s+", " ", text).strip()


def _read_text(path: Path) -> str:
    """The file's text through the shared reader (BOMs, UTF-16/32, CR/LF/CRLF); its errors as SegmentFileError."""
    from emorec.corpora.textfile import TextFileError, read_text

    try:
        return read_text(path)
    except TextFileError as e:
        raise SegmentFileError(
            path, e.line, f"not a text file: {e.reason}" if e.reason.startswith("binary") else e.reason
        ) from None


def _blocks(lines: list[str]):
    """(first line number 1-based, lines) for each block separated by blank lines."""
    block, first = [], 0
    for i, line in enumerate(lines, 1):
        if line.strip():
            if not block:
                first = i
            block.append(line)
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def read_subtitles(path) -> list[Segment]:
    """Cues of an SRT or WebVTT file as segments (one per cue, markup stripped, cues in file order).

    A cue whose timing line is malformed, or whose end is not after its start, raises SegmentFileError
    naming the file and line. WebVTT voice tags (`<v Name>`) are dropped from the text.
    """
    path = Path(path)
    lines = _read_text(path).split("\n")
    is_vtt = path.suffix.lower() == ".vtt" or (lines and lines[0].lstrip().startswith("WEBVTT"))
    segments: list[Segment] = []
    for first, block in _blocks(lines):
        head = block[0].strip()
        if is_vtt and (head.startswith("WEBVTT") or head.split(" ")[0] in ("NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((k for k, line in enumerate(block[:2]) if "-->" in line), None)
        if timing_at is None:
            if len(block) == 1 and head.isdigit():
                raise SegmentFileError(path, first, f"cue {head} has no timing line ('00:00:01,000 --> 00:00:02,000')")
            raise SegmentFileError(
                path, first, f"expected a cue timing line like '00:00:01,000 --> 00:00:02,000', got {head[:60]!r}"
            )
        m = _TIMING.match(block[timing_at])
        if not m:
            raise SegmentFileError(path, first + timing_at, f"malformed cue timing {block[timing_at].strip()[:80]!r}")
        if any(int(m.group(g)) >= 60 for g in (2, 3, 6, 7)):  # minutes and seconds of both times
            raise SegmentFileError(
                path,
                first + timing_at,
                f"cue timing {block[timing_at].strip()[:80]!r}: minutes and seconds must be below 60",
            )
        start, end = _seconds(m.groups()[:4]), _seconds(m.groups()[4:])
        if end <= start:
            raise SegmentFileError(path, first + timing_at, f"cue ends ({end:.3f} s) before it starts ({start:.3f} s)")
        text = clean_cue_text(block[timing_at + 1 :])
        segments.append(Segment(start, end, text or None))
    if not segments:
        raise SegmentFileError(path, 0, "no subtitle cues found")
    return segments


# ---------------------------------------------------------------- transcripts (JSON / CSV)


def _transcript_row(path: Path, line: int, row: dict) -> Segment:
    def num(key):
        try:
            return float(row[key])
        except KeyError:
            raise SegmentFileError(path, line, f"missing '{key}'") from None
        except (TypeError, ValueError):
            raise SegmentFileError(path, line, f"'{key}' is not a number: {row[key]!r}") from None

    start, end = num("start"), num("end")
    if not (np.isfinite(start) and np.isfinite(end)) or start < 0 or end <= start:
        raise SegmentFileError(path, line, f"bad time window start={start} end={end} (need 0 <= start < end)")
    text = row.get("text")
    text = None if text is None or (isinstance(text, float) and np.isnan(text)) else str(text).strip() or None
    side = row.get("side") or None
    if side is not None:
        side = str(side).strip().lower() or None
        if side not in (*SIDES, None, "auto"):
            raise SegmentFileError(path, line, f"side must be one of left/right/full/auto, got {side!r}")
        side = None if side == "auto" else side
    return Segment(start, end, text, side)


def read_transcript(path) -> list[Segment]:
    """Segments of a transcript: JSON (a list of {start, end, text[, side]} or {"segments": [...]}) or CSV
    with a header holding start, end and optionally text and side."""
    path = Path(path)
    text = _read_text(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SegmentFileError(path, e.lineno, f"invalid JSON: {e.msg}") from e
        if isinstance(data, dict):
            data = data.get("segments")
        if not isinstance(data, list):
            raise SegmentFileError(path, 0, 'expected a JSON list of {start, end, text} objects or {"segments": [...]}')
        segments = []
        for i, row in enumerate(data):
            if not isinstance(row, dict):
                raise SegmentFileError(path, 0, f"segment #{i + 1} is not an object")
            try:
                segments.append(_transcript_row(path, 0, row))
            except SegmentFileError as e:
                raise SegmentFileError(path, 0, f"segment #{i + 1}: {e.reason}") from None
    elif path.suffix.lower() in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        if not {"start", "end"} <= set(fields):
            raise SegmentFileError(path, 1, f"header needs 'start' and 'end' columns, got {reader.fieldnames}")
        segments = []
        for row in reader:
            row = {(k or "").strip().lower(): v for k, v in row.items()}
            segments.append(_transcript_row(path, reader.line_num, row))
    else:
        raise SegmentFileError(path, 0, "transcript must be .json or .csv")
    if not segments:
        raise SegmentFileError(path, 0, "transcript holds no segments")
    return segments


def read_segments_file(path) -> list[Segment]:
    """Subtitles (.srt/.vtt) or a transcript (.json/.csv/.tsv), chosen by extension."""
    suffix = Path(path).suffix.lower()
    if suffix in (".srt", ".vtt"):
        return read_subtitles(path)
    if suffix in (".json", ".csv", ".tsv"):
        return read_transcript(path)
    raise SegmentFileError(path, 0, "unsupported segment file (use .srt, .vtt, .json or .csv)")


# ---------------------------------------------------------------- without a transcript


def fixed_windows(duration: float, window: float, min_last: float = 0.5) -> list[Segment]:
    """Back-to-back windows of `window` seconds covering [0, duration]; a last piece shorter than
    `min_last` joins the previous window."""
    if window <= 0:
        raise ValueError(f"window must be > 0 seconds, got {window}")
    if duration <= 0:
        return []
    edges = list(np.arange(0.0, duration, window)) + [duration]
    if len(edges) > 2 and edges[-1] - edges[-2] < min_last:
        del edges[-2]
    return [Segment(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:])]


@dataclass
class VadConfig:
    """Energy speech detector: 25 ms frames every 10 ms, thresholds in dB above the noise floor."""

    frame_s: float = 0.025
    hop_s: float = 0.010
    on_db: float = 12.0  # a segment starts where energy rises this far above the noise floor
    off_db: float = 6.0  # ... and ends where it falls below this (hysteresis)
    peak_headroom_db: float = 20.0  # the start threshold is at most this far below the loudest frames
    silence_dbfs: float = -55.0  # frames quieter than this are never speech
    min_speech_s: float = 0.3  # drop shorter bursts
    merge_gap_s: float = 0.35  # join segments separated by less
    max_segment_s: float = 10.0  # split longer segments into equal parts
    pad_s: float = 0.1  # widen each segment by this on both sides


def _mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim > 1:  # (channels, n) or (n, channels)
        x = x.mean(axis=0 if x.shape[0] < x.shape[-1] else 1)
    return x


def frame_energy_db(samples: np.ndarray, sr: int, cfg: VadConfig = VadConfig()) -> np.ndarray:
    """Short-time RMS energy in dBFS, one value per hop."""
    x = _mono(samples)
    frame, hop = max(1, int(round(cfg.frame_s * sr))), max(1, int(round(cfg.hop_s * sr)))
    if len(x) < frame:
        x = np.pad(x, (0, frame - len(x)))
    n = 1 + (len(x) - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    rms = np.sqrt(np.mean(x[idx] ** 2, axis=1) + 1e-12)
    return 20 * np.log10(rms + 1e-10)


def speech_segments(samples: np.ndarray, sr: int, cfg: VadConfig = VadConfig()) -> list[Segment]:
    """Speech segments from the audio: energy with hysteresis, short bursts dropped, small gaps merged,
    long segments split (at most `cfg.max_segment_s`), each padded by `cfg.pad_s`."""
    x = _mono(samples)
    db = frame_energy_db(x, sr, cfg)
    duration = len(x) / sr
    floor, peak = float(np.percentile(db, 10)), float(np.percentile(db, 99))
    # above the noise floor, but never so close to the peak that speech filling the whole clip is missed
    on = max(min(floor + cfg.on_db, peak - cfg.peak_headroom_db), cfg.silence_dbfs)
    off = on - (cfg.on_db - cfg.off_db)
    spans, active, begin = [], False, 0
    for i, v in enumerate(db):
        if not active and v >= on:
            active, begin = True, i
        elif active and v < off:
            spans.append((begin, i))
            active = False
    if active:
        spans.append((begin, len(db)))
    hop = cfg.hop_s
    times = [(b * hop, e * hop + cfg.frame_s) for b, e in spans]
    merged: list[list[float]] = []
    for a, b in times:
        if merged and a - merged[-1][1] < cfg.merge_gap_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out: list[Segment] = []
    for a, b in merged:
        if b - a < cfg.min_speech_s:
            continue
        a, b = max(0.0, a - cfg.pad_s), min(duration, b + cfg.pad_s)
        parts = int(np.ceil((b - a) / cfg.max_segment_s))
        edges = np.linspace(a, b, parts + 1)
        out.extend(Segment(round(float(x), 3), round(float(y), 3)) for x, y in zip(edges[:-1], edges[1:]))
    return out


def clip_to_duration(segments: list[Segment], duration: float | None) -> list[Segment]:
    """Segments cut to [0, duration]; those left empty are dropped (`dropped_past_end` counts them)."""
    if duration is None:
        return list(segments)
    out = []
    for s in segments:
        a, b = max(0.0, s.start), min(duration, s.end)
        if b > a:
            out.append(Segment(a, b, s.text, s.side))
    return out
