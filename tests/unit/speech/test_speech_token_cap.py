"""Each utterance's decoding is capped at a number of tokens that grows with its length, so that Whisper looping
on noise stops early; whole recordings keep Whisper's own limit."""

from types import SimpleNamespace as NS

import numpy as np
import pytest

from emorec.inference.segment import Segment
from emorec.speech import asr


def test_the_cap_grows_with_the_utterance_and_stays_inside_whispers_context():
    assert asr.max_tokens(0.0) == asr.TOKENS_BASE
    assert asr.max_tokens(2.0) == asr.TOKENS_BASE + 2 * asr.TOKENS_PER_S
    assert asr.max_tokens(2.0) >= 4 * 2.0 * 2  # twice a fast speaker's 4 tokens a second
    assert asr.max_tokens(1000.0) == asr.MAX_TOKENS < 448


class FakeWhisper:
    def __init__(self):
        self.calls = []

    def transcribe(self, audio, **kwargs):
        self.calls.append((len(audio), kwargs))
        return iter([NS(text=" Hello there.", no_speech_prob=0.1, avg_logprob=-0.2, words=None)]), NS(
            language="en", language_probability=1.0
        )


@pytest.fixture
def transcriber():
    t = asr.Transcriber.__new__(asr.Transcriber)
    t.model, t.language, t.beam_size, t.max_utterance_s, t.context_s = FakeWhisper(), "en", 5, 10.0, 0.0
    t.short_windows = False  # the fake model has no encoder
    return t


def test_segments_are_decoded_with_the_cap_and_whole_recordings_without(transcriber):
    x = np.zeros(16000 * 5, np.float32)
    out = transcriber.transcribe_segments(x, 16000, [Segment(1.0, 3.5)])
    assert out.segments[0].text == "Hello there."
    n, kwargs = transcriber.model.calls[-1]
    assert n == int(2.5 * 16000) and kwargs["max_new_tokens"] == asr.max_tokens(2.5)
    transcriber.model.calls.clear()
    transcriber._decode(x, "en", words=True)
    assert transcriber.model.calls[-1][1]["max_new_tokens"] is None
