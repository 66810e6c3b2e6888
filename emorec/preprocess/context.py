"""Dialogue context for the text model: the previous k utterances of the same dialogue, with speaker tags."""

from __future__ import annotations

from collections import defaultdict

from emorec.corpora.records import Utterance


def _start(u: Utterance) -> float:
    return u.start if u.start is not None else float("-inf")


def dialogue_context(utterances: list[Utterance], k: int, *, speaker_tags: bool = True) -> dict[str, str]:
    """Context text per utterance id: the k utterances before it in its dialogue (by start time, then corpus order).

    Utterances of every label count as context (the context is what a listener heard), so the context is
    built on the whole corpus before a label set drops anything.
    """
    if k <= 0:
        return {u.utt_id: "" for u in utterances}
    by_dialog: dict[str, list[Utterance]] = defaultdict(list)
    for u in utterances:
        by_dialog[u.dialog or u.utt_id].append(u)
    out = {}
    for turns in by_dialog.values():
        turns = sorted(turns, key=lambda u: (_start(u), u.order))
        for i, u in enumerate(turns):
            prev = turns[max(0, i - k) : i]
            parts = [f"{p.speaker}: {p.text}" if speaker_tags and p.speaker else p.text for p in prev if p.text]
            out[u.utt_id] = " ".join(parts)
    return out
