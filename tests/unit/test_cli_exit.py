"""The console script ends a command that asked for it without the interpreter's teardown, after its threads
finish and its output is flushed; the exit status is kept."""

import subprocess
import sys
import threading
import time

import pytest

from emorec import cli
from emorec.commands import common


class Exited(Exception):
    pass


@pytest.fixture
def exits(monkeypatch):
    codes = []

    def fake_exit(code):
        codes.append(code)
        raise Exited

    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(common, "_SKIP_TEARDOWN", [])
    return codes


@pytest.mark.parametrize("status", [None, 0, 1, 2])
def test_fast_exit_waits_for_threads_and_keeps_the_status(monkeypatch, exits, status):
    finished = []

    def command():
        common.skip_teardown()
        threading.Thread(target=lambda: (time.sleep(0.3), finished.append(True))).start()
        raise SystemExit(status)

    monkeypatch.setattr(cli, "app", command)
    with pytest.raises(Exited):
        cli.main()
    assert exits == [status or 0] and finished == [True]


def test_commands_that_do_not_ask_exit_normally(monkeypatch, exits):
    monkeypatch.setattr(cli, "app", lambda: None)
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 0 and exits == []


def test_predict_output_is_complete_through_a_pipe(tmp_path, shared_data):
    clip = shared_data / "ravdess_speech" / "Actor_01" / "03-01-01-01-01-01-01.wav"
    if not clip.is_file():
        pytest.skip(f"{clip} not found")
    from emorec.inference import build_untrained_bundle

    bundle = build_untrained_bundle(
        tmp_path / "m.emorec", preprocess={"spec_size": [32, 96], "n_mels": 32}, frame=None, text=None, fusions={}
    )
    done = subprocess.run(
        [sys.executable, "-m", "emorec.cli", "predict", str(clip), "--model", str(bundle), "--csv", "--window", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = done.stdout.strip().splitlines()
    assert rows[0].startswith("start,end,label") and len(rows) == 1 + 3, done.stdout  # a 3.3 s clip
    assert rows[-1].startswith("2.0,3.3"), done.stdout
