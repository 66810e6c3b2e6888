"""CK+ (extended Cohn-Kanade) face crops: `<root>/<expression>/S###_###_########.png`, one Utterance per image.

The common 48x48 release (CK+48) keeps the last frames of each posed sequence: `S###` is the subject,
`_###_` the sequence, the last number the frame. Several images come from one sequence, so splits must keep
a subject on one side: `speaker` and `group` are the subject, `dialog` the sequence. Images are frames only
(no audio, no text); `video_path` is the image, read as a one-frame video.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from emorec.corpora.records import CorpusData, Problem, Utterance

CORPUS = "ckplus"
EXPRESSIONS = ("anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
_NAME = re.compile(r"^(S\d+)_(\d+)_(\d+)$")


def read(root: str | os.PathLike, *, expressions=EXPRESSIONS) -> CorpusData:
    """Read the images in the expression folders under `root`, in (subject, sequence, frame) order.

    `expressions`: the folders to read (default: the seven CK+ expressions). Files whose name does not fit,
    empty files and an image name found in two folders are reported as problems and skipped.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"CK+ root not found: {root}")
    expressions = (expressions,) if isinstance(expressions, str) else tuple(expressions)
    folders = [root / e for e in expressions if (root / e).is_dir()]
    if not folders:
        raise FileNotFoundError(f"no CK+ expression folders ({', '.join(expressions)}) in {root}")
    problems: list[Problem] = []
    found: dict[str, tuple[tuple, Utterance]] = {}
    for folder in folders:
        for path in _images(folder):
            u = _utterance(path, folder.name, problems)
            if u is None:
                continue
            if u.utt_id in found:
                first = found[u.utt_id][1]
                problems.append(Problem(str(path), 0, f"duplicate: same image name as {first.video_path}"))
                continue
            subject, sequence, frame = _NAME.match(u.utt_id).groups()
            found[u.utt_id] = ((int(subject[1:]), int(sequence), int(frame)), u)
    utterances = [u for _, u in sorted(found.values(), key=lambda kv: kv[0])]
    for i, u in enumerate(utterances):
        u.order = i
    return CorpusData(corpus=CORPUS, root=str(root), utterances=utterances, problems=problems)


def _images(folder: Path) -> list[Path]:
    return [
        folder / n
        for n in sorted(os.listdir(folder))
        if not n.startswith(".") and Path(n).suffix.lower() in IMAGE_EXTENSIONS
    ]


def _utterance(path: Path, expression: str, problems: list[Problem]) -> Utterance | None:
    m = _NAME.match(path.stem)
    if m is None:
        problems.append(Problem(str(path), 0, "name: not S###_###_######## (subject_sequence_frame)"))
        return None
    if not path.is_file():
        problems.append(Problem(str(path), 0, "missing file: not a readable file (broken link?)"))
        return None
    if path.stat().st_size == 0:
        problems.append(Problem(str(path), 0, "empty file: 0 bytes"))
        return None
    subject, sequence, _frame = m.groups()
    return Utterance(
        utt_id=path.stem,
        corpus=CORPUS,
        label=expression,
        speaker=subject,
        group=subject,
        dialog=f"{subject}_{sequence}",
        side="full",
        scripted=True,
        video_path=str(path),
    )
