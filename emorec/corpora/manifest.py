"""Manifest reader: a user's own labelled clips listed in a CSV/TSV or Parquet table.

Columns: `path` and `label` (required); optional `start`, `end` (seconds or [hh:]mm:ss[.fff]), `text`,
`speaker`, `group`, `split`, `side` (left/right/full), `gender` (F/M), `utt_id`. Relative paths are taken
from the manifest's folder. Bad rows are reported with their line (header = line 1) and skipped.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from emorec.corpora.labels import LabelSet, get_label_set
from emorec.corpora.records import CorpusData, Problem, Utterance
from emorec.corpora.textfile import csv_table

CORPUS = "manifest"
REQUIRED = ("path", "label")
OPTIONAL = ("start", "end", "text", "speaker", "group", "split", "side", "gender", "utt_id")
NAMES = ("manifest.csv", "manifest.tsv", "manifest.parquet")
SIDES = ("left", "right", "full")
AUDIO_EXT = {".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wma", ".aif", ".aiff"}
VIDEO_EXT = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".flv", ".mpg", ".mpeg", ".wmv", ".3gp", ".ts", ".mts"}
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:[.,]\d*)?)$")


def read(path_or_root: str | os.PathLike, *, label_set: str | dict | LabelSet | None = None) -> CorpusData:
    """Read a manifest file, or the manifest.csv / manifest.tsv / manifest.parquet inside a folder.

    With `label_set` (a built-in name, a YAML file, a dict or a LabelSet) rows whose label is outside the
    set are reported and skipped; without it every distinct label is kept (see `observed_label_set`).
    """
    path = find_manifest(path_or_root)
    labels = label_set if isinstance(label_set, LabelSet) or label_set is None else get_label_set(label_set)
    problems: list[Problem] = []
    rows = _read_rows(path, problems)
    base = path.parent
    utterances: list[Utterance] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        u = _utterance(row, base, path, line, labels, problems)
        if u is None:
            continue
        if u.utt_id in seen:
            problems.append(
                Problem(str(path), line, f"duplicate: utt_id {u.utt_id!r} already on line {seen[u.utt_id]}")
            )
            continue
        seen[u.utt_id] = line
        u.order = len(utterances)
        utterances.append(u)
    return CorpusData(corpus=CORPUS, root=str(path), utterances=utterances, problems=problems)


def find_manifest(path_or_root: str | os.PathLike) -> Path:
    """The manifest file itself, or the first of manifest.csv / .tsv / .parquet in the given folder."""
    path = Path(path_or_root)
    if path.is_dir():
        for name in NAMES:
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"no {' / '.join(NAMES)} in {path}")
    if not path.is_file():
        raise FileNotFoundError(f"manifest not found: {path}")
    if path.suffix.lower() not in (".csv", ".tsv", ".parquet", ".pq"):
        raise ValueError(f"manifest {path}: expected a .csv, .tsv or .parquet file")
    return path


def observed_label_set(data: CorpusData, name: str = "manifest") -> LabelSet:
    """The identity label set over the labels present, in sorted order (the default for a manifest)."""
    return LabelSet(name=name, classes=tuple(sorted({u.label for u in data.utterances})), corpus=data.corpus)


def _read_rows(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    """(line, row with lower-case column names and string values); header problems reported on line 1."""
    if path.suffix.lower() in (".parquet", ".pq"):
        header, records = _parquet_records(path, problems)
    else:
        header, records = _csv_records(path, problems)
    if header is None:
        return []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        have = [c[:30] for c in header[:12]] + (["..."] if len(header) > 12 else [])
        problems.append(Problem(str(path), 1, f"header: missing required columns {missing} (have {have})"))
        return []
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        problems.append(Problem(str(path), 1, f"columns: ignored unknown columns {unknown}"))
    return records


def _csv_records(path: Path, problems: list[Problem]):
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    first, rows = csv_table(path, problems, delimiter)
    if first is None:
        return None, []
    header = [c.strip().lower() for c in first]
    records = []
    for line, row in rows:
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            problems.append(Problem(str(path), line, f"fields: {len(row)} fields, header has {len(header)}"))
            continue
        records.append((line, {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)}))
    return header, records


def _parquet_records(path: Path, problems: list[Problem]):
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # a damaged or foreign file must not stop the caller
        problems.append(Problem(str(path), 0, f"parquet: cannot read ({e})"))
        return None, []
    header = [str(c).strip().lower() for c in frame.columns]
    records = []
    for i, values in enumerate(frame.itertuples(index=False, name=None)):
        records.append((i + 2, {h: _as_text(v) for h, v in zip(header, values)}))
    return header, records


def _as_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _utterance(
    row: dict[str, str], base: Path, manifest: Path, line: int, labels: LabelSet | None, problems: list[Problem]
) -> Utterance | None:
    def skip(reason: str) -> None:
        problems.append(Problem(str(manifest), line, reason))

    def get(key: str) -> str:
        return (row.get(key) or "").strip()

    rel, label = get("path"), get("label")
    if not rel:
        return skip("path: empty")
    if not label:
        return skip("label: empty")
    if labels is not None and labels.to_class(label) is None:
        return skip(f"label: {label!r} not in label set {labels.name} {list(labels.classes)}")
    try:
        start, end = _seconds(get("start")), _seconds(get("end"))
    except ValueError as e:
        return skip(f"times: {e}")
    if start is not None and start < 0:
        return skip(f"times: start {start} is negative")
    if end is not None and end <= (start or 0.0):
        return skip(f"times: end {end} is not after start {start or 0.0}")
    side = get("side").lower() or "full"
    if side not in SIDES:
        return skip(f"side: {get('side')!r} not one of {list(SIDES)}")
    gender = get("gender").upper()[:1]
    if gender not in ("", "F", "M"):
        return skip(f"gender: {get('gender')!r} not F or M")
    media = Path(os.path.normpath(Path(rel) if Path(rel).is_absolute() else base / rel))
    ext = media.suffix.lower()
    if ext not in AUDIO_EXT | VIDEO_EXT:
        return skip(f"media: {rel!r} has no known audio/video extension")
    if not media.is_file():
        return skip(f"missing file: {media}")
    if media.stat().st_size == 0:
        return skip(f"empty file: {media} is 0 bytes")
    is_video = ext in VIDEO_EXT
    speaker = get("speaker")
    return Utterance(
        utt_id=get("utt_id") or _default_id(media, base, start, end),
        corpus=CORPUS,
        label=label,
        start=start,
        end=end,
        text=row.get("text") or "",
        speaker=speaker,
        group=get("group") or speaker,
        dialog=rel,
        gender=gender,
        side=side,
        split=get("split").lower(),
        video_path=str(media) if is_video else "",
        audio_path=str(media),
        sentence_wav=str(media) if ext == ".wav" and start is None and end is None else "",
    )


def _default_id(media: Path, base: Path, start: float | None, end: float | None) -> str:
    """The path below the manifest folder without extension ('/' -> '__'), or the file stem outside it;
    with times, start and end in milliseconds appended."""
    try:
        stem = media.relative_to(base).with_suffix("").as_posix().replace("/", "__")
    except ValueError:
        stem = media.stem
    if start is None and end is None:
        return stem
    end_ms = "end" if end is None else str(round(end * 1000))
    return f"{stem}_{round((start or 0.0) * 1000)}-{end_ms}"


def _seconds(text: str) -> float | None:
    """Seconds from '12.5', '1:02.5' or '01:02:03,5'; None when empty; ValueError otherwise."""
    if not text:
        return None
    m = _CLOCK.match(text)
    if m:
        hours, minutes, seconds = m.groups()
        value = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds.replace(",", "."))
    else:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a time (seconds or [hh:]mm:ss.fff)") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite time")
    return value
