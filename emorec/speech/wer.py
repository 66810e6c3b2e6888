"""Word error rate: (substitutions + deletions + insertions) / reference words, on normalised text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


def normalise_text(text: str | None) -> list[str]:
    """Lower-case words without punctuation; an apostrophe inside a word stays (don't, it's)."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    text = "".join(c if c.isalnum() or c == "'" or c.isspace() else " " for c in text)
    return [w.strip("'") for w in re.split(r"\s+", text) if w.strip("'")]


@dataclass
class WordErrors:
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    reference_words: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        return self.errors / self.reference_words if self.reference_words else float(self.errors > 0)

    def __add__(self, other: WordErrors) -> WordErrors:
        return WordErrors(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.reference_words + other.reference_words,
        )


def word_errors(reference: str | list[str], hypothesis: str | list[str] | None) -> WordErrors:
    """Minimum edit alignment of the two word sequences (strings are normalised first)."""
    ref = normalise_text(reference) if isinstance(reference, str) else list(reference)
    hyp = normalise_text(hypothesis) if isinstance(hypothesis, str) or hypothesis is None else list(hypothesis)
    # cost[j] = (edits, subs, dels, ins) to turn ref[:i] into hyp[:j]
    prev = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i in range(1, len(ref) + 1):
        cur = [(i, 0, i, 0)]
        for j in range(1, len(hyp) + 1):
            same = ref[i - 1] == hyp[j - 1]
            d, s, dl, ins = prev[j - 1]
            options = [(d + (not same), s + (not same), dl, ins)]
            d, s, dl, ins = prev[j]
            options.append((d + 1, s, dl + 1, ins))
            d, s, dl, ins = cur[j - 1]
            options.append((d + 1, s, dl, ins + 1))
            cur.append(min(options))
        prev = cur
    _, subs, dels, ins = prev[-1]
    return WordErrors(subs, dels, ins, len(ref))
