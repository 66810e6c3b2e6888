"""The records every corpus reader produces: one `Utterance` per labelled segment, `Problem`s for what was skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields

import pandas as pd


@dataclass
class Utterance:
    """One labelled segment of a corpus, with everything later stages need to find its media."""

    utt_id: str
    corpus: str
    label: str  # the corpus' own code (IEMOCAP 'neu', MELD 'neutral', ...)
    start: float | None = None  # seconds into `video_path`/`audio_path`; None = whole clip
    end: float | None = None
    text: str = ""
    speaker: str = ""  # speaker identity, e.g. 'Ses01F', 'Actor_05'
    group: str = ""  # grouping for splits: IEMOCAP session '1'..'5', actor, dialogue
    dialog: str = ""  # media unit the segment is cut from (IEMOCAP dialog, MELD dialogue, clip)
    session: int | None = None
    gender: str = ""  # 'F' / 'M' / ''
    side: str = "full"  # where the speaker sits in the frame: 'left' / 'right' / 'full'
    scripted: bool | None = None
    script: str = ""  # script/scene id shared by dialogs that read the same text ('' if improvised)
    val: float | None = None
    act: float | None = None
    dom: float | None = None
    evaluators: list[str] = field(default_factory=list)  # categorical votes, e.g. ['C-E1:Neutral']
    video_path: str = ""
    audio_path: str = ""  # the wav/clip the window is cut from (IEMOCAP: dialog wav)
    sentence_wav: str = ""  # per-utterance wav when the corpus has one
    split: str = ""  # official split when the corpus defines one (MELD train/dev/test)
    order: int = 0  # position in corpus order


@dataclass
class Problem:
    """Something a reader skipped or could not find; `line` is 1-based, 0 when not about a line."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line else f"{self.file}: {self.reason}"


@dataclass
class CorpusData:
    """What a reader returns: the utterances in corpus order and the problems met on the way."""

    corpus: str
    root: str
    utterances: list[Utterance]
    problems: list[Problem] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        cols = [f.name for f in fields(Utterance)]
        return pd.DataFrame([asdict(u) for u in self.utterances], columns=cols)

    def problem_counts(self) -> Counter:
        return Counter(p.reason.split(":")[0] for p in self.problems)
