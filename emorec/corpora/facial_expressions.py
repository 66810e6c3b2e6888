"""facial_expressions (muxspace/facial_expressions): face images labelled in `legend.csv`, one Utterance per image.

Layout: `<root>/legend.csv` (or `<root>/data/legend.csv`, as in the repository) and `<root>/images/*.jpg`.
The legend's columns are `user.id,image,emotion`; `user.id` is who labelled (or, for `facial-expressions_*`
images, who posed and uploaded) the image, not the person shown. Labels come in mixed case and are lower-cased.

The person shown (`speaker` and `group`, so that splits keep a person on one side) comes from the file name:
- `First_Last_0001.jpg` (Labeled Faces in the Wild) and `HrithikRoshan_12.jpg` (film stills): the name
  without the trailing `_<number>`;
- `facial-expressions_2868588k.jpg` (posed by a contributor): the contributor, `contributor-<user.id>`;
- any other name: the image itself.
Problems (reported, never fatal): rows naming a missing image, unknown labels, malformed rows, an image
labelled twice (kept once when the labels agree, dropped when they differ) and images without a legend row.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from emorec.corpora.records import CorpusData, Problem, Utterance

CORPUS = "facial_expressions"
EMOTIONS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
COLUMNS = ("user.id", "image", "emotion")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
POSED_PREFIX = "facial-expressions_"
_NUMBERED = re.compile(r"^(.+?)_(\d+)$")


@dataclass
class _Row:
    line: int
    user: str
    image: str
    label: str


def person_of(image: str, user_id: str = "") -> str:
    """The person an image shows, from its name (see the module docstring)."""
    stem = Path(image).stem
    if stem.startswith(POSED_PREFIX):
        return f"contributor-{user_id}" if user_id else stem
    m = _NUMBERED.match(stem)
    return m.group(1) if m else stem


def read(root: str | os.PathLike) -> CorpusData:
    """Read the legend and the images under `root`; utterances in legend order."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"facial_expressions root not found: {root}")
    legend = next((p for p in (root / "legend.csv", root / "data" / "legend.csv") if p.is_file()), None)
    if legend is None:
        raise FileNotFoundError(f"no legend.csv in {root} nor in {root / 'data'}")
    images_dir = root / "images"
    if not images_dir.is_dir():
        raise FileNotFoundError(f"no images/ folder in {root}")
    problems: list[Problem] = []
    images = {n for n in os.listdir(images_dir) if not n.startswith(".") and Path(n).suffix.lower() in IMAGE_EXTENSIONS}
    rows, conflicting = _unique_rows(_legend_rows(legend, problems), legend, problems)
    utterances = []
    for row in rows:
        path = images_dir / row.image
        if row.image not in images:
            problems.append(Problem(str(legend), row.line, f"missing image: {path} does not exist"))
            continue
        if path.stat().st_size == 0:
            problems.append(Problem(str(path), 0, "empty file: 0 bytes"))
            continue
        person = person_of(row.image, row.user)
        utterances.append(
            Utterance(
                utt_id=Path(row.image).stem,
                corpus=CORPUS,
                label=row.label,
                speaker=person,
                group=person,
                dialog=Path(row.image).stem,
                side="full",
                evaluators=[f"{row.user}:{row.label}"],
                video_path=str(path),
                order=len(utterances),
            )
        )
    labelled = {r.image for r in rows} | conflicting
    for name in sorted(images - labelled):
        problems.append(Problem(str(images_dir / name), 0, "unlabelled: image without a legend row"))
    return CorpusData(corpus=CORPUS, root=str(root), utterances=utterances, problems=problems)


def _legend_rows(path: Path, problems: list[Problem]) -> list[_Row]:
    """The legend's usable rows; malformed rows and unknown labels are reported with their line."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header[:3]) != COLUMNS:
        problems.append(Problem(str(path), 1, f"header: expected {','.join(COLUMNS)}, got {','.join(header)}"))
        return []
    rows = []
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != 3:
            problems.append(Problem(str(path), line, f"malformed row: {len(fields)} fields, expected 3"))
            continue
        user, image, emotion = (f.strip() for f in fields)
        label = emotion.lower()
        if not image:
            problems.append(Problem(str(path), line, "malformed row: empty image name"))
        elif label not in EMOTIONS:
            problems.append(Problem(str(path), line, f"unknown label: {emotion!r} (known {', '.join(EMOTIONS)})"))
        else:
            rows.append(_Row(line, user, image, label))
    return rows


def _unique_rows(rows: list[_Row], legend: Path, problems: list[Problem]) -> tuple[list[_Row], set[str]]:
    """One row per image, and the images dropped for differing labels (a repeat with the same label is
    reported and kept once)."""
    first: dict[str, _Row] = {}
    conflicting: set[str] = set()
    for row in rows:
        seen = first.get(row.image)
        if seen is None:
            first[row.image] = row
        elif seen.label == row.label:
            problems.append(
                Problem(str(legend), row.line, f"duplicate: {row.image} also on line {seen.line}, same label")
            )
        else:
            conflicting.add(row.image)
            problems.append(
                Problem(
                    str(legend),
                    row.line,
                    f"conflicting labels: {row.image} is {row.label!r} here "
                    f"and {seen.label!r} on line {seen.line}; image dropped",
                )
            )
    return [r for r in first.values() if r.image not in conflicting], conflicting
