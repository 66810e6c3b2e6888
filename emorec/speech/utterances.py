"""Whisper segments -> utterances: long segments are cut between words (sentence end, else clause mark,
else the longest pause) so that no utterance is longer than a limit."""

from __future__ import annotations

from dataclasses import dataclass

from emorec.inference.segment import Segment

SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
CLAUSE_END = (",", ";", ":", "，", "、", "；", "：")
SENTENCE_BONUS = 1.0  # a cut after a sentence end counts as a pause this much longer
CLAUSE_BONUS = 0.3


@dataclass
class Word:
    """One recognised word; `text` as Whisper gives it (with its leading space in spaced scripts)."""

    start: float
    end: float
    text: str


def join_words(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()


def _cut_score(before: Word, after: Word) -> float:
    mark = before.text.strip()[-1:]
    bonus = SENTENCE_BONUS if mark in SENTENCE_END else CLAUSE_BONUS if mark in CLAUSE_END else 0.0
    return max(0.0, after.start - before.end) + bonus


def _best_cut(words: list[Word], max_s: float) -> int:
    """Index i of the word that starts the second part; the first part fits in `max_s` (or is one word)."""
    start = words[0].start
    best, best_score = 1, float("-inf")
    for i in range(1, len(words)):
        if words[i - 1].end - start > max_s:
            break
        score = _cut_score(words[i - 1], words[i])
        if score >= best_score:  # ties go to the later cut: fewer, longer pieces
            best, best_score = i, score
    return best


def split_words(words: list[Word], max_s: float) -> list[list[Word]]:
    """Consecutive groups of words, each spanning at most `max_s` seconds (a single longer word stays
    alone in its group)."""
    if max_s <= 0:
        raise ValueError(f"max utterance length must be > 0 seconds, got {max_s}")
    groups, rest = [], list(words)
    while len(rest) > 1 and rest[-1].end - rest[0].start > max_s:
        cut = _best_cut(rest, max_s)
        groups.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        groups.append(rest)
    return groups


def utterances_from_whisper(segments, max_s: float, offset: float = 0.0) -> list[Segment]:
    """Utterances with text from faster-whisper segments (with or without word timestamps); a segment
    longer than `max_s` with words is cut between words. Times are shifted by `offset` seconds."""
    out = []
    for seg in segments:
        words = [Word(float(w.start), float(w.end), w.word) for w in (getattr(seg, "words", None) or [])]
        if not words or seg.end - seg.start <= max_s:
            text = seg.text.strip()
            if text:
                out.append(Segment(round(float(seg.start) + offset, 3), round(float(seg.end) + offset, 3), text))
            continue
        for group in split_words(words, max_s):
            text = join_words(group)
            if text:
                out.append(Segment(round(group[0].start + offset, 3), round(group[-1].end + offset, 3), text))
    return out
