"""Utterance windows encoded without most of Whisper's 30 s padding, and the encoder's last pass reused."""

import threading

import numpy as np
import pytest

from emorec.speech.asr import MIN_WINDOW_FRAMES, PAD_KEPT_FRAMES, WhisperEncoding, without_padding
from support.speech import ravdess_wav, whisper_transcriber


def padded(content: int, total: int = 3000) -> np.ndarray:
    f = np.zeros((80, total), np.float32)
    f[:, :content] = np.random.default_rng(content).uniform(-1, 1, (80, content))
    return f


@pytest.mark.parametrize(
    "content,expected",
    [(300, MIN_WINDOW_FRAMES), (0, MIN_WINDOW_FRAMES), (1999, 1999 + PAD_KEPT_FRAMES + 1), (2800, 3000)],
)
def test_trailing_padding_is_cut_to_what_is_kept(content, expected):
    out = without_padding(padded(content))
    assert out.shape == (80, expected) and out.shape[-1] % 2 == 0
    assert np.array_equal(out[:, :content], padded(content)[:, :content])
    assert without_padding(padded(content)[None]).shape == (1, 80, expected)  # a batch axis too


def test_short_windows_apply_in_the_thread_that_asked_and_passes_are_reused():
    seen = []
    encoding = WhisperEncoding(lambda f: seen.append(f.shape[-1]) or object())
    features = padded(300)
    elsewhere = []
    with encoding.short_windows():
        first = encoding(features)
        assert encoding(features.copy()) is first  # the same window: no second pass
        worker = threading.Thread(target=lambda: elsewhere.append(encoding(padded(400))))
        worker.start()
        worker.join()
    encoding(features)
    assert seen == [MIN_WINDOW_FRAMES, 3000, 3000]  # the other thread and the later call: whole windows


def test_short_windows_hear_the_same_words(shared_data):
    from emorec.inference.segment import Segment

    x, sr = ravdess_wav(shared_data, "01", "03-01-05-01-01-01-01")
    segment = [Segment(0.8, len(x) / sr - 0.3)]
    short = whisper_transcriber(language="en", threads=1).transcribe_segments(x, sr, segment)
    full = whisper_transcriber(language="en", threads=1, short_windows=False).transcribe_segments(x, sr, segment)
    assert short.segments[0].text == full.segments[0].text
    assert "talking by the door" in short.segments[0].text.lower()
