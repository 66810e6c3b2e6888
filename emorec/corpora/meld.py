"""MELD reader: the official `{train,dev,test}_sent_emo.csv` tables and, when present, the per-utterance clips.

Clips are only checked for existence and size here (no decoding). Without clip folders the corpus is read
text-only. Every skipped row or clip is reported as a `Problem` with its file (and CSV line).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from emorec.corpora.records import CorpusData, Problem, Utterance
from emorec.corpora.textfile import csv_table

CORPUS = "meld"
SPLITS = ("train", "dev", "test")
EMOTIONS = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")
SENTIMENTS = ("neutral", "positive", "negative")
TARGETS = {"emotion": ("Emotion", EMOTIONS), "sentiment": ("Sentiment", SENTIMENTS)}
REQUIRED = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")
CLIP_DIRS = {"train": "train_splits", "dev": "dev_splits_complete", "test": "output_repeated_splits_test"}
_CLIP = re.compile(r"^dia(\d+)_utt(\d+)\.mp4$", re.IGNORECASE)


def read(
    root: str | os.PathLike, *, target: str = "emotion", clips: bool = True, missing_clips: str = "drop", splits=SPLITS
) -> CorpusData:
    """Read MELD from `root` (the folder with the CSVs, or the MELD.Raw layout with train/, dev/, test/).

    `target` picks the label: "emotion" (7 classes, label set meld7) or "sentiment" (meld_sentiment3).
    `clips=False` reads text only. With clips, rows whose clip is missing or empty are dropped
    (`missing_clips="drop"`) or kept without media (`"keep"`); either way they are reported.
    """
    if target not in TARGETS:
        raise ValueError(f"MELD target must be one of {list(TARGETS)}, not {target!r}")
    if missing_clips not in ("drop", "keep"):
        raise ValueError(f"missing_clips must be 'drop' or 'keep', not {missing_clips!r}")
    splits = (splits,) if isinstance(splits, str) else tuple(splits)
    bad = [s for s in splits if s not in SPLITS]
    if bad:
        raise ValueError(f"unknown MELD splits {bad}; known: {list(SPLITS)}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"MELD root not found: {root}")
    tables = {s: _find_table(root, s) for s in splits}
    if not any(tables.values()):
        names = ", ".join(f"{s}_sent_emo.csv" for s in splits)
        raise FileNotFoundError(f"no MELD tables ({names}) in {root} nor in its train/dev/test folders")

    problems: list[Problem] = []
    clip_dirs = {s: _find_clip_dir(root, s) for s in splits} if clips else {}
    if clips and not any(clip_dirs.values()):
        problems.append(
            Problem(
                str(root),
                0,
                "clips absent: no clip folder (" + ", ".join(CLIP_DIRS[s] for s in splits) + "); reading text only",
            )
        )
    utterances: list[Utterance] = []
    for split in splits:
        table = tables[split]
        if table is None:
            problems.append(Problem(str(root / f"{split}_sent_emo.csv"), 0, "missing file: table not found"))
            continue
        rows, ids = _read_table(table, split, target, problems)
        if clips and clip_dirs[split] is not None:
            rows = _attach_clips(rows, ids, clip_dirs[split], table, missing_clips, problems)
        elif clips and any(clip_dirs.values()):
            problems.append(
                Problem(
                    str(root / CLIP_DIRS[split]), 0, f"clips absent: no {split} clip folder; {split} read as text only"
                )
            )
        utterances.extend(u for _, u in rows)
    for i, u in enumerate(utterances):
        u.order = i
    return CorpusData(corpus=CORPUS, root=str(root), utterances=utterances, problems=problems)


def _find_table(root: Path, split: str) -> Path | None:
    name = f"{split}_sent_emo.csv"
    for candidate in (root / name, root / split / name):
        if candidate.is_file():
            return candidate
    return None


def _find_clip_dir(root: Path, split: str) -> Path | None:
    name = CLIP_DIRS[split]
    for candidate in (root / name, root / split / name):
        if candidate.is_dir():
            return candidate
    return None


def _read_table(path: Path, split: str, target: str, problems: list[Problem]):
    """(line, Utterance) for every usable row of one split's CSV in file order, and the ids of all rows."""
    header, records = csv_table(path, problems)
    if header is None:
        return [], set()
    col = {name.strip(): i for i, name in enumerate(header)}
    missing = [c for c in REQUIRED if c not in col]
    if missing:
        problems.append(Problem(str(path), 1, f"header: missing columns {missing}"))
        return [], set()
    field, allowed = TARGETS[target]
    out: list[tuple[int, Utterance]] = []
    seen: dict[tuple[int, int], int] = {}
    ids: set[tuple[int, int]] = set()
    for line, row in records:
        if len(row) < len(header):
            hint = " (a quote left open?)" if any("\n" in c for c in row) else ""
            problems.append(Problem(str(path), line, f"fields: {len(row)} fields, header has {len(header)}{hint}"))
            continue
        try:
            dia, utt = int(row[col["Dialogue_ID"]]), int(row[col["Utterance_ID"]])
        except ValueError:
            given = (row[col["Dialogue_ID"]], row[col["Utterance_ID"]])
            problems.append(Problem(str(path), line, f"ids: Dialogue_ID/Utterance_ID not integers {given}"))
            continue
        ids.add((dia, utt))
        label = row[col[field]].strip().lower()
        if label not in allowed:
            problems.append(Problem(str(path), line, f"label: {field} {row[col[field]]!r} not one of {list(allowed)}"))
            continue
        if (dia, utt) in seen:
            problems.append(Problem(str(path), line, f"duplicate: dia{dia}_utt{utt} already on line {seen[dia, utt]}"))
            continue
        seen[dia, utt] = line
        out.append(
            (
                line,
                Utterance(
                    utt_id=f"{split}_dia{dia}_utt{utt}",
                    corpus=CORPUS,
                    label=label,
                    text=row[col["Utterance"]],
                    speaker=row[col["Speaker"]].strip(),
                    group=split,
                    dialog=f"{split}_dia{dia}",
                    split=split,
                ),
            )
        )
    return out, ids


def _attach_clips(
    rows, ids: set, clip_dir: Path, table: Path, missing_clips: str, problems: list[Problem]
) -> list[tuple[int, Utterance]]:
    """Set media paths from `clip_dir`; report missing, empty and orphan clips."""
    clips: dict[tuple[int, int], os.DirEntry] = {}
    for entry in sorted(os.scandir(clip_dir), key=lambda e: e.name):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        m = _CLIP.match(entry.name)
        if m is None:
            problems.append(Problem(entry.path, 0, "orphan clip: name is not dia<D>_utt<U>.mp4"))
            continue
        clips[int(m.group(1)), int(m.group(2))] = entry
    kept = []
    for line, u in rows:
        key = _key(u.utt_id)
        entry = clips.get(key)
        if entry is None:
            reason = f"missing clip: {clip_dir / f'dia{key[0]}_utt{key[1]}.mp4'} not found"
        elif entry.stat().st_size == 0:
            reason = f"empty clip: {entry.path} is 0 bytes"
        else:
            u.video_path = u.audio_path = entry.path
            kept.append((line, u))
            continue
        action = "; row skipped" if missing_clips == "drop" else "; kept text only"
        problems.append(Problem(str(table), line, reason + action))
        if missing_clips == "keep":
            kept.append((line, u))
    for key in sorted(set(clips) - ids):
        problems.append(Problem(clips[key].path, 0, f"orphan clip: no row dia{key[0]}_utt{key[1]} in {table.name}"))
    return kept


def _key(utt_id: str) -> tuple[int, int]:
    dia, utt = utt_id.rsplit("_dia", 1)[1].split("_utt")
    return int(dia), int(utt)
