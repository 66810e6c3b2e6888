"""RAVDESS reader: clips named MM-VV-EE-II-SS-RR-AA.{wav,mp4}, in Actor_XX/ folders or directly in the root.

Fields: modality (01 audio-visual, 02 video-only, 03 audio-only), vocal channel (01 speech, 02 song),
emotion, intensity, statement, repetition, actor (odd male, even female). One Utterance per file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from emorec.corpora.records import CorpusData, Problem, Utterance

CORPUS = "ravdess"
MODALITIES = {"01": "av", "02": "video", "03": "audio"}
CHANNELS = {"01": "speech", "02": "song"}
EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
REPETITIONS = {"01", "02"}
EXTENSION = {"av": ".mp4", "video": ".mp4", "audio": ".wav"}
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_ACTOR_DIR = re.compile(r"^Actor_(\d+)$")


def read(root: str | os.PathLike, *, modalities=("audio", "av", "video"), channel: str = "speech") -> CorpusData:
    """Read RAVDESS clips under `root` (searched recursively), keeping the given modalities and vocal channel.

    `modalities`: any of "audio" (03, wav), "av" (01, mp4 with sound), "video" (02, mp4 without sound).
    `channel`: "speech", "song" or "both".
    """
    if isinstance(modalities, str):
        modalities = (modalities,)
    bad = [m for m in modalities if m not in EXTENSION]
    if bad or not modalities:
        raise ValueError(f"RAVDESS modalities must be among {list(EXTENSION)}, got {list(modalities)}")
    if channel not in ("speech", "song", "both"):
        raise ValueError(f"RAVDESS channel must be 'speech', 'song' or 'both', not {channel!r}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"RAVDESS root not found: {root}")
    files = _media_files(root)
    if not files:
        raise FileNotFoundError(f"no RAVDESS .wav/.mp4 files under {root}")

    problems: list[Problem] = []
    found: dict[str, tuple[tuple, Utterance]] = {}  # stem -> (sort key, utterance)
    first_path: dict[str, Path] = {}
    for path in files:
        fields = _parse(path, problems)
        if fields is None:
            continue
        modality, voc, emo, _intensity, stmt, _repetition, actor = fields
        if MODALITIES[modality] not in modalities or (channel != "both" and CHANNELS[voc] != channel):
            continue
        if not path.is_file():
            problems.append(Problem(str(path), 0, "missing file: not a readable file (broken link?)"))
            continue
        if path.stat().st_size == 0:
            problems.append(Problem(str(path), 0, "empty file: 0 bytes"))
            continue
        if path.stem in found:
            problems.append(Problem(str(path), 0, f"duplicate: same name as {first_path[path.stem]}"))
            continue
        first_path[path.stem] = path
        found[path.stem] = ((int(actor), path.stem), _utterance(path, MODALITIES[modality], emo, stmt, actor))
    utterances = [u for _, u in sorted(found.values(), key=lambda kv: kv[0])]
    for i, u in enumerate(utterances):
        u.order = i
    return CorpusData(corpus=CORPUS, root=str(root), utterances=utterances, problems=problems)


def _media_files(root: Path) -> list[Path]:
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [
            Path(folder) / n
            for n in sorted(names)
            if not n.startswith(".") and Path(n).suffix.lower() in (".wav", ".mp4")
        ]
    return out


def _parse(path: Path, problems: list[Problem]) -> tuple[str, ...] | None:
    """The seven name fields, or None (reported) when the name or its folder does not fit."""
    m = _NAME.match(path.stem)
    if m is None:
        problems.append(Problem(str(path), 0, "name: not MM-VV-EE-II-SS-RR-AA (seven two-digit fields)"))
        return None
    modality, voc, emo, inten, stmt, rep, actor = m.groups()
    checks = [
        ("modality", modality, MODALITIES),
        ("vocal channel", voc, CHANNELS),
        ("emotion", emo, EMOTIONS),
        ("intensity", inten, INTENSITIES),
        ("statement", stmt, STATEMENTS),
        ("repetition", rep, REPETITIONS),
    ]
    for what, code, known in checks:
        if code not in known:
            problems.append(Problem(str(path), 0, f"name: {what} code {code} unknown (known {sorted(known)})"))
            return None
    if not 1 <= int(actor) <= 24:
        problems.append(Problem(str(path), 0, f"name: actor {actor} outside 01-24"))
        return None
    expected = EXTENSION[MODALITIES[modality]]
    if path.suffix.lower() != expected:
        problems.append(
            Problem(str(path), 0, f"name: modality {modality} ({MODALITIES[modality]}) should be a {expected} file")
        )
        return None
    folder = _ACTOR_DIR.match(path.parent.name)
    if folder and int(folder.group(1)) != int(actor):
        problems.append(Problem(str(path), 0, f"name: actor {actor} in folder {path.parent.name}"))
        return None
    return modality, voc, emo, inten, stmt, rep, actor


def _utterance(path: Path, kind: str, emo: str, stmt: str, actor: str) -> Utterance:
    number = int(actor)
    return Utterance(
        utt_id=path.stem,
        corpus=CORPUS,
        label=EMOTIONS[emo],
        text=STATEMENTS[stmt],
        speaker=f"Actor_{actor}",
        group=actor,
        dialog=path.stem,
        gender="M" if number % 2 else "F",
        side="full",
        scripted=True,
        script=f"statement{stmt}",
        video_path=str(path) if kind in ("av", "video") else "",
        audio_path=str(path) if kind in ("av", "audio") else "",
        sentence_wav=str(path) if kind == "audio" else "",
    )
