"""Models built in the background while speech is recognised: once, from any thread, and a process that ends
early (a broken first file) still exits cleanly."""

import subprocess
import sys
import threading
import time

import pytest

from emorec.inference import Recognizer
from emorec.inference.bundle import LazyModels
from support.speech import small_untrained_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return small_untrained_bundle(tmp_path_factory.mktemp("b"))


def test_warm_up_builds_every_model_and_input(bundle):
    r = Recognizer.load(bundle)
    assert "frame" not in r.bundle.models.loaded
    r.warm_up()
    r._warming.join(timeout=120)
    assert {"frame", "audio", "text"} <= set(r.bundle.models.loaded)
    assert r.runners["audio"].kind._maker is not None


def test_warm_up_without_text_leaves_the_text_model_unbuilt(bundle):
    r = Recognizer.load(bundle)
    r.warm_up(text=False)
    r._warming.join(timeout=120)
    assert {"frame", "audio"} <= set(r.bundle.models.loaded) and "text" not in r.bundle.models.loaded


def test_a_model_asked_for_by_two_threads_is_built_once():
    calls = []

    def build(key, meta):
        calls.append(key)
        time.sleep(0.2)
        return object()

    models = LazyModels({"frame": None}, build)
    got = []
    threads = [threading.Thread(target=lambda: got.append(models["frame"][0])) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["frame"] and len({id(g) for g in got}) == 1


def test_a_broken_only_file_exits_with_an_error_not_an_abort(bundle, tmp_path, shared_data):
    clip = shared_data / "ravdess_av" / "01-01-01-01-02-01-05.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} not found")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clip.read_bytes()[:50_000])
    done = subprocess.run(
        [sys.executable, "-m", "emorec.cli", "predict", str(broken), "--model", str(bundle), "--csv"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "broken.mp4: truncated or corrupt" in done.stderr and "terminate called" not in done.stderr


def test_subtitles_text_is_read_while_models_are_built_in_the_background(bundle, tmp_path, shared_data):
    """The main thread tokenises the subtitles while the warm-up thread loads the same tokenizer: a fresh
    process, so that transformers is imported there for the first time."""
    clip = shared_data / "ravdess_av" / "01-01-01-01-02-01-05.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} not found")
    srt = tmp_path / "clip.srt"
    srt.write_text("1\n00:00:00,900 --> 00:00:02,600\nDogs are sitting by the door.\n")
    done = subprocess.run(
        [sys.executable, "-m", "emorec.cli", "predict", str(clip), "--model", str(bundle), "--subtitles", str(srt)]
        + ["--csv"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "frame+audio+text" in done.stdout and "Dogs are sitting by the door." in done.stdout
