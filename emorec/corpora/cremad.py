"""CREMA-D reader: clips named {Actor}_{Sentence}_{EMO}_{LVL}, audio and video of one stem paired.

Media folders: AudioWAV/ (*.wav), AudioMP3/ (*.mp3), VideoMP4/ (*.mp4), VideoFlash/ (*.flv), or the same
files directly in the root. Gender comes from VideoDemographics.csv in the root when it is there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from emorec.corpora.records import CorpusData, Problem, Utterance
from emorec.corpora.textfile import csv_table

CORPUS = "cremad"
EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
FOLDERS = {"AudioWAV": ".wav", "AudioMP3": ".mp3", "VideoMP4": ".mp4", "VideoFlash": ".flv"}
VIDEO_PREFERENCE = (".mp4", ".flv")  # first found is the utterance's video
AUDIO_PREFERENCE = (".wav", ".mp3")
WAV_HEADER_BYTES = 44  # a wav of this size holds no samples
_NAME = re.compile(r"^(\d+)_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")


def read(root: str | os.PathLike) -> CorpusData:
    """Read CREMA-D from `root`; one Utterance per clip stem, in name order (actor first)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"CREMA-D root not found: {root}")
    problems: list[Problem] = []
    media = _collect_media(root, problems)
    if not media and not problems:
        raise FileNotFoundError(f"no CREMA-D clips (.wav/.mp3/.mp4/.flv) in {root} nor in {', '.join(FOLDERS)}")
    genders = _read_genders(root / "VideoDemographics.csv", problems)
    utterances = []
    for stem in sorted(media):
        u = _utterance(stem, media[stem], genders, problems)
        if u is not None:
            u.order = len(utterances)
            utterances.append(u)
    return CorpusData(corpus=CORPUS, root=str(root), utterances=utterances, problems=problems)


def _collect_media(root: Path, problems: list[Problem]) -> dict[str, dict[str, Path]]:
    """stem -> {extension: path} over the media folders and the root; names checked, duplicates reported."""
    media: dict[str, dict[str, Path]] = {}
    places = [(root / name, ext) for name, ext in FOLDERS.items()] + [(root, None)]
    for folder, only_ext in places:
        if not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            ext = Path(entry.name).suffix.lower()
            if entry.name.startswith(".") or not entry.is_file() or ext not in FOLDERS.values():
                continue
            if only_ext is not None and ext != only_ext:
                problems.append(Problem(entry.path, 0, f"name: {ext} file in {folder.name}/ (expected {only_ext})"))
                continue
            stem = Path(entry.name).stem
            if not _check_name(stem, entry.path, problems):
                continue
            have = media.setdefault(stem, {})
            if ext in have:
                problems.append(Problem(entry.path, 0, f"duplicate: same clip as {have[ext]}"))
                continue
            have[ext] = Path(entry.path)
    return media


def _check_name(stem: str, path: str, problems: list[Problem]) -> bool:
    m = _NAME.match(stem)
    if m is None:
        problems.append(Problem(path, 0, "name: not {Actor}_{Sentence}_{EMO}_{LVL}, e.g. 1001_DFA_ANG_XX"))
        return False
    _, sentence, emotion, level = m.groups()
    for what, code, known in (
        ("sentence", sentence, SENTENCES),
        ("emotion", emotion, EMOTIONS),
        ("level", level, LEVELS),
    ):
        if code not in known:
            problems.append(Problem(path, 0, f"name: {what} code {code} unknown (known {sorted(known)})"))
            return False
    return True


def _utterance(stem: str, files: dict[str, Path], genders: dict[str, str], problems: list[Problem]) -> Utterance | None:
    usable = {}
    for ext, path in files.items():
        size = path.stat().st_size
        if size == 0 or (ext == ".wav" and size <= WAV_HEADER_BYTES):
            problems.append(Problem(str(path), 0, f"empty file: {size} bytes, no media"))
        else:
            usable[ext] = str(path)
    if not usable:
        return None
    video = next((usable[e] for e in VIDEO_PREFERENCE if e in usable), "")
    audio = next((usable[e] for e in AUDIO_PREFERENCE if e in usable), video)
    actor, sentence, emotion, _level = stem.split("_")
    return Utterance(
        utt_id=stem,
        corpus=CORPUS,
        label=emotion,
        text=SENTENCES[sentence],
        speaker=actor,
        group=actor,
        dialog=stem,
        gender=genders.get(actor, ""),
        side="full",
        scripted=True,
        script=sentence,
        video_path=video,
        audio_path=audio,
        sentence_wav=usable.get(".wav", ""),
    )


def _read_genders(path: Path, problems: list[Problem]) -> dict[str, str]:
    """ActorID -> 'M'/'F' from VideoDemographics.csv; {} when the file is absent."""
    if not path.is_file():
        return {}
    header, rows = csv_table(path, problems)
    if header is None:
        return {}
    col = {name.strip(): i for i, name in enumerate(header)}
    if not {"ActorID", "Sex"} <= set(col):
        problems.append(Problem(str(path), 1, "header: needs columns ActorID and Sex"))
        return {}
    out = {}
    for line, row in rows:
        cells = [row[col[c]].strip() if col[c] < len(row) else "" for c in ("ActorID", "Sex")]
        actor, sex = cells[0], cells[1].lower()
        if not actor or sex not in ("male", "female"):
            problems.append(Problem(str(path), line, f"demographics: actor {actor!r} sex {sex!r} unusable"))
            continue
        out[actor] = "M" if sex == "male" else "F"
    return out
