"""Whisper segments -> utterances, and the word error rate."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from emorec.inference.segment import Segment
from emorec.speech.asr import asr_windows, uncovered_parts
from emorec.speech.utterances import Word, join_words, split_words, utterances_from_whisper
from emorec.speech.wer import WordErrors, normalise_text, word_errors


def words(spec):
    """[(start, end, text), ...] -> Words"""
    return [Word(a, b, t) for a, b, t in spec]


def test_split_prefers_sentence_ends_then_pauses():
    w = words(
        [
            (0, 1, " One"),
            (1.05, 2, " two."),
            (2.1, 3, " Three"),
            (3.6, 4, " four"),
            (4.05, 5, " five"),
            (5.1, 6, " six"),
        ]
    )
    groups = split_words(w, 4.5)
    assert [join_words(g) for g in groups] == ["One two.", "Three four five six"]
    # no sentence end: the longest pause in reach wins (0.6 s before "four", then 0.1 s before "six")
    groups = split_words(w[2:] + words([(6.05, 7, " seven"), (7.05, 8, " eight")]), 3.5)
    assert [join_words(g) for g in groups] == ["Three", "four five", "six seven eight"]
    assert all(g[-1].end - g[0].start <= 3.5 for g in groups)


def test_split_keeps_every_word_once_and_handles_long_words():
    w = words([(i * 0.5, i * 0.5 + 0.4, f" w{i}") for i in range(40)])
    groups = split_words(w, 3.0)
    assert [x for g in groups for x in g] == w
    assert all(g[-1].end - g[0].start <= 3.0 for g in groups)
    long = words([(0, 5, " loooong"), (5.1, 5.5, " short")])
    assert [join_words(g) for g in split_words(long, 2.0)] == ["loooong", "short"]
    assert split_words([], 2.0) == []
    with pytest.raises(ValueError):
        split_words(w, 0)


def segment(start, end, text, spec=None):
    """A stand-in for a faster-whisper segment (its words have .start, .end, .word)."""
    found = [SimpleNamespace(start=a, end=b, word=t) for a, b, t in spec] if spec else None
    return SimpleNamespace(start=start, end=end, text=text, words=found)


def test_utterances_from_whisper_segments():
    spec = [(0.0, 2.0, " Hello there."), (2.5, 6.0, " How are you"), (6.2, 9.0, " today?"), (9.1, 12.0, " Fine.")]
    segs = [
        segment(0.0, 12.0, " Hello there. How are you today? Fine.", spec),
        segment(12.5, 14.0, " Bye."),
        segment(14.0, 14.5, "  "),
    ]
    out = utterances_from_whisper(segs, 7.0, offset=10.0)
    assert [(u.start, u.end, u.text) for u in out] == [
        (10.0, 12.0, "Hello there."),
        (12.5, 19.0, "How are you today?"),
        (19.1, 22.0, "Fine."),
        (22.5, 24.0, "Bye."),
    ]


def test_normalise_text():
    assert normalise_text("Kids, are TALKING—by the door!") == ["kids", "are", "talking", "by", "the", "door"]
    assert normalise_text("Don’t   'quote' me...") == ["don't", "quote", "me"]
    assert normalise_text("") == normalise_text(None) == []


def test_word_errors_count_each_kind():
    ref = "kids are talking by the door"
    assert word_errors(ref, "Kids are talking by the door.") == WordErrors(0, 0, 0, 6)
    assert word_errors(ref, "kids who are talking about the door") == WordErrors(1, 0, 1, 6)
    assert word_errors(ref, "talking by the door") == WordErrors(0, 2, 0, 6)
    assert word_errors(ref, None).wer == 1.0
    total = word_errors(ref, "kids are talking by the door door") + word_errors(ref, ref)
    assert (total.insertions, total.reference_words, round(total.wer, 4)) == (1, 12, round(1 / 12, 4))
    assert word_errors("", "").wer == 0.0 and word_errors("", "extra").wer == 1.0


def test_asr_windows_add_context_but_stay_out_of_neighbours():
    segs = [Segment(0.5, 2.0), Segment(2.4, 4.0), Segment(9.0, 9.8)]
    assert asr_windows(segs, 10.0, 1.0) == [(0.0, 2.2), (2.2, 5.0), (8.0, 10.0)]
    # a neighbour given only as `others` limits the context too, touching segments get none on that side
    assert asr_windows([Segment(4.0, 5.0)], 10.0, 1.0, others=[Segment(5.0, 6.0)]) == [(3.0, 5.0)]
    assert asr_windows(segs, 10.0, 0.0) == [(0.5, 2.0), (2.4, 4.0), (9.0, 9.8)]


def test_uncovered_parts():
    energy = [Segment(0.4, 3.7), Segment(5.0, 5.2), Segment(6.0, 7.0)]
    silero = [Segment(0.9, 2.0), Segment(6.1, 7.2)]
    parts = uncovered_parts(energy, silero, 0.3)
    assert [(p.start, p.end) for p in parts] == [(0.4, 0.9), (2.0, 3.7)]  # 5.0-5.2 and 6.0-6.1 are too short
    assert uncovered_parts(energy, [], 0.3) == [Segment(0.4, 3.7), Segment(6.0, 7.0)]
