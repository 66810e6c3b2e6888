"""IEMOCAP reader: EmoEvaluation and transcription text files of `IEMOCAP_full_release`, no media decoding.

Every line that is not used is reported as a `Problem` with its file and 1-based line number; media files
that are missing are reported once each while their utterances are kept.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from emorec.corpora.records import CorpusData, Problem, Utterance
from emorec.corpora.textfile import TextFileError, read_lines

CORPUS = "iemocap"
LABEL_CODES = frozenset(["neu", "hap", "sad", "ang", "fru", "exc", "sur", "fea", "dis", "oth", "xxx"])

_NUM = r"(\d+(?:\.\d*)?|\.\d+)"
_HEAD = re.compile(rf"^\[\s*{_NUM}\s*-\s*{_NUM}\s*\]\s+(\S+)\s+(\S+)\s+\[\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*\]\s*$")
_EVALUATOR = re.compile(r"^([A-Z])-([A-Za-z0-9]+):(.*)$")
_COMMENT = re.compile(r"\([^()]*\)\s*$")
# transcription lines `<id> [<start>-<end>]: <text>` are split by hand (see _transcript_parts): one pass
# over the line, where a single regex with optional parts between runs of spaces backtracks quadratically
_ID_END = re.compile(r"[\s\[:]")
_TRANSCRIPT_TIMES = re.compile(rf"\[\s*{_NUM}\s*-\s*{_NUM}\s*\]")
_UNTIMED_ID = re.compile(r"Ses\d\d[FM]_\S+")
_DIALOG = re.compile(r"^Ses(\d\d)([FM])_\w+$")
_SCRIPT = re.compile(r"script(\d\d)_(\d)")


def read(root: str | os.PathLike, *, sessions=None) -> CorpusData:
    """Read IEMOCAP from `root` (the `IEMOCAP_full_release` folder or its parent).

    `sessions` restricts reading to these session numbers (e.g. [1, 5]).
    """
    base = find_release_dir(root)
    wanted = None if sessions is None else {int(s) for s in sessions}
    problems: list[Problem] = []
    utterances: list[Utterance] = []
    seen: set[str] = set()
    for number, session_dir in _session_dirs(base):
        if wanted is not None and number not in wanted:
            continue
        for dialog, eval_file in _dialog_files(session_dir, problems):
            _read_dialog(session_dir, dialog, eval_file, utterances, seen, problems)
    for i, u in enumerate(utterances):
        u.order = i
    return CorpusData(corpus=CORPUS, root=str(base), utterances=utterances, problems=problems)


def find_release_dir(root: str | os.PathLike) -> Path:
    """The folder holding Session1..5: `root` itself or `root/IEMOCAP_full_release`."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"IEMOCAP root not found: {root}")
    for candidate in (root, root / "IEMOCAP_full_release"):
        if candidate.is_dir() and _session_dirs(candidate):
            return candidate
    raise FileNotFoundError(f"no IEMOCAP Session1..Session5 folders under {root} (nor {root / 'IEMOCAP_full_release'})")


def _session_dirs(base: Path) -> list[tuple[int, Path]]:
    found = []
    for entry in os.scandir(base):
        m = re.fullmatch(r"Session(\d+)", entry.name)
        if m and entry.is_dir():
            found.append((int(m.group(1)), Path(entry.path)))
    return sorted(found)


def _dialog_files(session_dir: Path, problems: list[Problem]) -> list[tuple[str, Path]]:
    """EmoEvaluation/<dialog>.txt files in name order; subfolders and AppleDouble/hidden files are skipped."""
    eval_dir = session_dir / "dialog" / "EmoEvaluation"
    if not eval_dir.is_dir():
        problems.append(Problem(str(eval_dir), 0, "missing EmoEvaluation: folder not found"))
        return []
    out = []
    for entry in os.scandir(eval_dir):
        name = entry.name
        if name.startswith(".") or not name.endswith(".txt") or not entry.is_file():
            continue
        dialog = name[: -len(".txt")]
        if not _DIALOG.match(dialog):
            problems.append(Problem(entry.path, 0, f"unexpected file: {name} is not named like a dialog"))
            continue
        out.append((dialog, Path(entry.path)))
    return sorted(out)


def _read_lines(path: Path, problems: list[Problem]) -> list[str] | None:
    """The file's lines (any encoding and line ends the shared reader knows); None, reported, when unusable."""
    try:
        return read_lines(path, problems)
    except TextFileError as e:
        problems.append(Problem(str(path), e.line, f"unreadable file: {e.reason}"))
        return None


@dataclass
class _Block:
    utt: Utterance
    votes: list[str] = field(default_factory=list)


def _read_dialog(session_dir, dialog, eval_file, utterances, seen, problems) -> None:
    media = _media_paths(session_dir, dialog, problems)
    blocks = parse_emo_evaluation(eval_file, dialog, seen, problems)
    if not blocks:
        problems.append(Problem(str(eval_file), 0, f"no utterances: {dialog} has no usable block"))
    transcript = session_dir / "dialog" / "transcriptions" / f"{dialog}.txt"
    texts = parse_transcription(transcript, {b.utt.utt_id for b in blocks}, problems)
    sentence_dir, sentence_names = media["sentences"]
    for b in blocks:
        u = b.utt
        u.evaluators = b.votes
        u.video_path, u.audio_path = media["video"], media["audio"]
        u.sentence_wav = str(sentence_dir / f"{u.utt_id}.wav")
        if sentence_names is not None and f"{u.utt_id}.wav" not in sentence_names:
            problems.append(Problem(u.sentence_wav, 0, f"missing sentence wav: {u.utt_id}"))
        if texts is not None:
            if u.utt_id in texts:
                u.text = texts[u.utt_id]
            else:
                problems.append(Problem(str(transcript), 0, f"no transcript: {u.utt_id}"))
        utterances.append(u)


def _media_paths(session_dir: Path, dialog: str, problems: list[Problem]) -> dict:
    """Paths of the dialog's video, wav and sentence-wav folder; each missing one reported once."""
    dialog_dir = session_dir / "dialog"
    video = dialog_dir / "avi" / "DivX" / f"{dialog}.avi"
    audio = dialog_dir / "wav" / f"{dialog}.wav"
    if not video.is_file():
        problems.append(Problem(str(video), 0, f"missing video: {dialog}"))
    if not audio.is_file():
        problems.append(Problem(str(audio), 0, f"missing dialog wav: {dialog}"))
    sentence_dir = session_dir / "sentences" / "wav" / dialog
    names = None
    try:
        names = {e.name for e in os.scandir(sentence_dir)}
    except OSError:
        problems.append(Problem(str(sentence_dir), 0, f"missing sentence wav: folder for {dialog} not found"))
    return {"video": str(video), "audio": str(audio), "sentences": (sentence_dir, names)}


def parse_emo_evaluation(path: Path, dialog: str, seen: set[str], problems: list[Problem]) -> list[_Block]:
    """Blocks of one EmoEvaluation file; ids already in `seen` are reported as duplicates and skipped."""
    lines = _read_lines(path, problems)
    if lines is None:
        return []
    blocks: list[_Block] = []
    current: _Block | None = None
    in_skipped_block = False
    for n, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s.startswith("%"):
            continue
        if s.startswith("["):
            current, reason = _block_from_head(s, dialog, seen)
            in_skipped_block = current is None
            if current is None:
                problems.append(Problem(str(path), n, reason))
            else:
                seen.add(current.utt.utt_id)
                blocks.append(current)
            continue
        m = _EVALUATOR.match(s)
        if m:
            if current is None and not in_skipped_block:
                problems.append(Problem(str(path), n, f"evaluator line outside a block: {_short(s)}"))
            elif current is not None and m.group(1) == "C":
                name = f"C-{m.group(2)}"
                current.votes.extend(f"{name}:{c}" for c in _categories(m.group(3)))
            continue
        problems.append(Problem(str(path), n, f"unparsable line: {_short(s)}"))
    return blocks


def _categories(rest: str) -> list[str]:
    """'Frustration; Other;\\t(disbelief)' -> ['Frustration', 'Other']."""
    rest = _COMMENT.sub("", rest)
    return [c.strip() for c in rest.split(";") if c.strip()]


def _block_from_head(s: str, dialog: str, seen: set[str]) -> tuple[_Block | None, str]:
    m = _HEAD.match(s)
    if not m:
        return None, f"malformed block head: {_short(s)}"
    start, end, utt_id, label = float(m.group(1)), float(m.group(2)), m.group(3), m.group(4)
    val, act, dom = (float(m.group(i)) for i in (5, 6, 7))
    if label not in LABEL_CODES:
        return None, f"unknown label: {label!r} for {utt_id}"
    if not utt_id.startswith(dialog + "_"):
        return None, f"turn of another dialog: {utt_id} in {dialog}"
    gender = utt_id.rsplit("_", 1)[1][:1]
    if gender not in ("F", "M"):
        return None, f"bad turn name: {utt_id} (last part must start with F or M)"
    if end < start:
        return None, f"bad window: end {end} < start {start} for {utt_id}"
    if utt_id in seen:
        return None, f"duplicate id: {utt_id} (first kept)"
    session = int(utt_id[3:5])
    script = ""
    if "script" in dialog:
        sm = _SCRIPT.search(dialog)
        script = f"script{sm.group(1)}_{sm.group(2)}" if sm else dialog.split("_", 1)[1]
    utt = Utterance(
        utt_id=utt_id,
        corpus=CORPUS,
        label=label,
        start=start,
        end=end,
        speaker=f"Ses{session:02d}{gender}",
        group=str(session),
        dialog=dialog,
        session=session,
        gender=gender,
        side="left" if gender == dialog[5] else "right",
        scripted="script" in dialog,
        script=script,
        val=val,
        act=act,
        dom=dom,
    )
    return _Block(utt), ""


def parse_transcription(path: Path, labelled: set[str], problems: list[Problem]) -> dict[str, str] | None:
    """Text by utterance id for the labelled ids; None when the file is missing.

    Lines of unlabelled turns (e.g. `..._MXX0`), lines without a usable time and odd lines are reported.
    A labelled turn whose time is unusable still gives its text (reported too).
    """
    if not path.is_file():
        problems.append(Problem(str(path), 0, "missing transcription: file not found"))
        return None
    lines = _read_lines(path, problems)
    if lines is None:
        return None
    texts: dict[str, str] = {}
    for n, line in enumerate(lines, start=1):
        s = line.strip()
        if not s:
            continue
        parts = _transcript_parts(s)
        if parts is None:
            problems.append(Problem(str(path), n, f"unparsable transcript line: {_short(s)}"))
            continue
        utt_id, text, timed = parts
        if utt_id not in labelled:
            problems.append(Problem(str(path), n, f"unlabelled turn: {_short(utt_id)}"))
            continue
        if utt_id in texts:
            problems.append(Problem(str(path), n, f"duplicate transcript: {utt_id} (first kept)"))
            continue
        texts[utt_id] = text.strip()
        if not timed:
            problems.append(Problem(str(path), n, f"transcript time unusable: {utt_id} (text kept)"))
    return texts


def _transcript_parts(s: str) -> tuple[str, str, bool] | None:
    """(id, text, timed) of a stripped transcription line, or None when it is not one; linear in the line.

    `<id> [<start>-<end>]: <text>` is timed; `<id>: <text>` and `<id> [<anything else>]: <text>` are not,
    and need a turn-like id (`Ses01F_...`). The id ends at the first space, '[' or ':'."""
    if not s.startswith("Ses"):
        return None
    end = _ID_END.search(s, 3)
    end = len(s) if end is None else end.start()
    utt_id, rest = s[:end], s[end:].lstrip()
    if len(utt_id) <= 3:
        return None
    timed = False
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            return None
        timed = _TRANSCRIPT_TIMES.fullmatch(rest, 0, close + 1) is not None
        rest = rest[close + 1 :].lstrip()
    if not rest.startswith(":") or not (timed or _UNTIMED_ID.fullmatch(utt_id)):
        return None
    text = rest[1:]
    return utt_id, text[1:] if text[:1].isspace() else text, timed


def _short(s: str, limit: int = 80) -> str:
    return s if len(s) <= limit else s[: limit - 3] + "..."
