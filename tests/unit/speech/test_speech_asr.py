"""Speech recognition of real RAVDESS clips through emorec's segmentation (Whisper base, int8, one thread)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("faster_whisper")
sf = pytest.importorskip("soundfile")

from emorec.speech import models, vad  # noqa: E402  (after the skip: faster-whisper is optional)
from emorec.speech.asr import Transcriber, transcribe_speech  # noqa: E402
from emorec.speech.wer import normalise_text, word_errors  # noqa: E402

STATEMENTS = {"01": "kids are talking by the door", "02": "dogs are sitting by the door"}


@pytest.fixture(scope="module")
def transcriber():
    try:
        models.base_model_sources()
    except ImportError as e:
        pytest.skip(str(e))
    return Transcriber(language="en", threads=1)


def clip(shared_data, name):
    path = shared_data / "ravdess_speech" / f"Actor_{name.split('-')[-1]}" / f"{name}.wav"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    x, sr = sf.read(path, dtype="float32")
    return x, sr, STATEMENTS[name.split("-")[4]].split()


def test_speech_segments_then_words_with_language_detection(shared_data, transcriber):
    detecting = Transcriber(transcriber.model_path, threads=1)  # language=None: detected per recording
    x, sr, expected = clip(shared_data, "03-01-03-01-02-02-10")
    result = transcribe_speech(x, sr, detecting)
    assert result.language == "en" and result.language_probability > 0.5
    assert result.vad_method == "silero" and len(result.segments) == 1, result
    assert normalise_text(result.text) == expected, result.text


def test_two_sentences_in_one_recording_give_two_utterances(shared_data, transcriber):
    a, sr, first = clip(shared_data, "03-01-02-01-01-01-05")
    b, _, second = clip(shared_data, "03-01-04-01-02-02-08")
    result = transcribe_speech(np.concatenate([a, b]), sr, transcriber)
    assert len(result.segments) == 2, result.segments
    for seg, expected in zip(result.segments, (first, second)):
        assert word_errors(expected, seg.text).errors <= 1, (seg.text, expected)  # Whisper hears "docs" here
    assert "talking" in result.segments[0].text and "sitting" in result.segments[1].text
    assert result.segments[0].end <= len(a) / sr <= result.segments[1].start


def test_whole_recording_without_speech_detection(shared_data, transcriber):
    x, sr, expected = clip(shared_data, "03-01-05-01-01-02-07")
    result = transcriber.transcribe(x, sr)
    assert normalise_text(result.text) == expected and result.language == "en"
    assert all(0 <= s.start < s.end <= len(x) / sr + 0.05 for s in result.segments)


def test_shouted_speech_silero_misses_is_rescued(shared_data, transcriber):
    x, sr, expected = clip(shared_data, "03-01-05-02-01-01-06")  # angry, strong: Silero hears no speech
    assert vad.silero_segments(x, sr) == []
    assert transcribe_speech(x, sr, transcriber, rescue=False).segments == []
    result = transcribe_speech(x, sr, transcriber)
    assert result.vad_method == "silero+energy" and len(result.segments) == 1
    assert normalise_text(result.text) == expected


def test_noise_gives_no_words(transcriber):
    rng = np.random.default_rng(0)
    noise = (0.05 * rng.standard_normal(3 * 16000)).astype(np.float32)
    result = transcribe_speech(noise, 16000, transcriber)  # the energy detector finds "speech"; Whisper does not
    assert result.segments == [] and result.text == ""


def test_bad_language_code(transcriber):
    with pytest.raises(ValueError, match="unknown language code 'xx'"):
        Transcriber(transcriber.model_path, language="xx")
