"""The speech pass begun before the bundle's models are loaded (`emorec.inference.early`): it gives what the
recogniser's own pass gives, is dropped where the options differ, and needs no torch."""

import subprocess
import sys
import zipfile

import numpy as np
import pytest

from emorec.inference import Recognizer
from emorec.inference.early import EarlySpeech, bundle_reads_text
from emorec.inference.segmenter import SpeechOptions
from support.speech import ravdess_wav, small_untrained_bundle, whisper_transcriber


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return small_untrained_bundle(tmp_path_factory.mktemp("b"))


@pytest.fixture
def clip(shared_data):
    path = shared_data / "ravdess_av" / "01-01-01-01-02-01-05.mp4"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


def _table(result):
    return result.to_frame().drop(columns=["model"]).to_dict("records")


def test_early_pass_gives_the_recognisers_own_result(bundle, clip):
    """Energy speech detection, no Whisper (asr off): segments, probabilities and timings keys agree."""
    speech = SpeechOptions(asr="off", vad="energy")
    early = EarlySpeech(clip, speech)
    r = Recognizer.load(bundle)
    r._speech_pass = None  # the recogniser's own pass must not run
    with_early = r.predict_video(clip, asr="off", vad="energy", early=early)
    own = Recognizer.load(bundle).predict_video(clip, asr="off", vad="energy")
    assert with_early.segmentation == own.segmentation == "speech (energy)"
    assert _table(with_early) == _table(own) and len(own.segments) >= 1
    assert {"probe", "audio_decode", "vad"} <= set(with_early.timings)


def test_early_pass_with_other_options_is_dropped(bundle, clip, monkeypatch):
    early = EarlySpeech(clip, SpeechOptions(asr="off", vad="energy"))
    r = Recognizer.load(bundle)
    early._thread.join()
    track = early.result.track
    closed = []
    monkeypatch.setattr(track, "close", lambda: closed.append(True))
    result = r.predict_video(clip, asr="off", vad="energy", window=1.0, early=early)
    assert result.segmentation == "window" and closed == [True]
    assert early.result is None  # taken once


def test_early_pass_for_another_file_or_rate_is_dropped(bundle, clip, tmp_path):
    r = Recognizer.load(bundle)
    other = tmp_path / "other.mp4"
    other.write_bytes(clip.read_bytes())
    speech = SpeechOptions(asr="off", vad="energy")
    assert EarlySpeech(other, speech).take(clip, r.segmenter, speech) is None
    assert EarlySpeech(clip, speech, sample_rate=8000).take(clip, r.segmenter, speech) is None
    assert EarlySpeech(clip, speech).take(clip, r.segmenter, SpeechOptions(asr="off", vad="silero")) is None
    assert EarlySpeech(clip, speech).take(clip, r.segmenter, speech) is not None


def test_a_broken_file_leaves_the_error_to_the_recogniser(bundle, tmp_path, clip):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[:5000])
    speech = SpeechOptions(asr="off", vad="energy")
    r = Recognizer.load(bundle)
    assert EarlySpeech(broken, speech).take(broken, r.segmenter, speech) is None
    from emorec.inference import MediaError

    with pytest.raises(MediaError, match="broken.mp4"):
        r.predict_video(broken, asr="off", vad="energy", early=EarlySpeech(broken, speech))


def test_a_cancelled_pass_stops_before_speech_detection(clip, monkeypatch):
    import threading

    from emorec.inference import early as early_module

    go, detected = threading.Event(), []
    probe = early_module.probe_media
    monkeypatch.setattr(early_module, "probe_media", lambda p: go.wait(30) and probe(p))
    monkeypatch.setattr(early_module.Segmenter, "segments", lambda *a, **k: detected.append(1))
    early = EarlySpeech(clip, SpeechOptions(asr="off", vad="energy"))
    early.cancel()
    go.set()
    early._thread.join()
    assert early.result is None and detected == []


def test_bundle_reads_text_from_a_folder_a_zip_or_nothing(bundle, tmp_path):
    assert bundle_reads_text(bundle)
    zipped = tmp_path / "b.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for f in bundle.rglob("*"):
            if f.is_file():
                zf.write(f, f"model.emorec/{f.relative_to(bundle)}")
    assert bundle_reads_text(zipped)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "bundle.json").write_text("{not json")
    assert not bundle_reads_text(tmp_path / "bad") and not bundle_reads_text(tmp_path / "missing")
    no_text = tmp_path / "nt"
    no_text.mkdir()
    (no_text / "bundle.json").write_text('{"models": {"audio": "audio/"}}')
    assert not bundle_reads_text(no_text)


def test_the_early_pass_imports_no_torch():
    code = "import sys, emorec.inference.early, emorec.speech, emorec.commands.predict;print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_whisper_decoding_reuses_language_detections_encoder_pass(shared_data):
    """One utterance, language detected: the encoder runs once for detection and decoding together."""
    x, sr = ravdess_wav(shared_data, "10", "03-01-03-01-02-02-10")
    t = whisper_transcriber(threads=1)
    calls = []
    inner = t.model.encode.encode
    t.model.encode.encode = lambda f: calls.append(f.shape) or inner(f)
    from emorec.inference.segment import Segment

    result = t.transcribe_segments(x, sr, [Segment(0.0, len(x) / sr)])
    assert result.language == "en" and "sitting" in result.segments[0].text
    assert len(calls) == 1, calls
    n = len(x) / sr
    t.transcribe_segments(np.concatenate([x, 0.5 * x]), sr, [Segment(0.0, n), Segment(n, 2 * n)])
    assert len(calls) == 4, calls  # detection on both utterances' speech, then one pass per utterance
