"""Preprocessing processes: workers die with their parent (kill -9 included), one writer per store (a second is
refused naming the first's pid, a dead writer's lock is taken over), and a run resumed after a kill gives the
same store as a clean run. On a tiny synthetic IEMOCAP corpus."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from emorec.corpora.synth.iemocap import SynthConfig, generate_iemocap
from emorec.preprocess.config import PreprocessConfig
from emorec.preprocess.lock import LOCK_FILE, StoreLocked, store_lock
from emorec.preprocess.run import preprocess

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
DIALOGS = 3

SLOW_UNIT = """
import time
from emorec.preprocess.unit import process_unit

def slow(task):
    result = process_unit(task)  # the shard is written: then linger, as a long unit would
    time.sleep(60)
    return result
"""
PARENT = """
import sys
import emorec.preprocess.run as run
import slow_unit
run.process_unit = slow_unit.slow
from emorec.cli import app
app(["preprocess", "--config", sys.argv[1], "--workers", "2", "--quiet"])
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate_iemocap(
        out,
        SynthConfig(seed=3, sessions=1, dialogs_per_session=DIALOGS, utterances_per_dialog=2, frame_size=(96, 64)),
        progress=False,
    )
    return out


def config(root, out) -> PreprocessConfig:
    return PreprocessConfig(
        corpus="iemocap",
        root=str(root),
        out=str(out),
        frame_size=32,
        spec_size=(16, 32),
        n_mels=16,
        max_audio_seconds=1.0,
        modalities=["frame", "audio"],
    )


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a running process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[1]), fields[0], int(fields[19])


def _children(pid: int) -> dict[int, int]:
    """pid -> start time of the processes whose parent is `pid`."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) and st[0] == pid:
            out[int(entry.name)] = st[2]
    return out


def _alive(pid: int, started: int) -> bool:
    st = _stat(pid)
    return st is not None and st[2] == started and st[1] != "Z"  # a zombie has exited


def _wait(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if got := predicate():
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def test_workers_die_with_their_killed_parent_and_the_resumed_store_is_the_same(corpus, tmp_path):
    cfg = config(corpus, tmp_path / "stores")
    (tmp_path / "slow_unit.py").write_text(SLOW_UNIT)
    cfg_file = tmp_path / "pre.yaml"
    cfg_file.write_text(yaml.safe_dump({"preprocess": cfg.model_dump(mode="json")}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]), "OMP_NUM_THREADS": "1"}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(cfg_file)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    shards = cfg.store_dir() / "shards"
    try:
        _wait(lambda: len(list(shards.glob("*.npz"))) >= 2 or parent.poll() is not None, 120, "two shards")
        assert parent.poll() is None, parent.stderr.read().decode()
        children = _children(parent.pid)  # the two workers and multiprocessing's resource tracker
        assert len(children) >= 2, children
        assert (cfg.store_dir() / LOCK_FILE).read_text().strip() == str(parent.pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        t0 = time.monotonic()
        _wait(lambda: not any(_alive(p, s) for p, s in children.items()), 5, f"workers {sorted(children)} to exit")
        gone_after = time.monotonic() - t0
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
    assert gone_after < 5
    done = {p.stem for p in shards.glob("*.npz")}
    assert 2 <= len(done) < DIALOGS and not (cfg.store_dir() / "complete").exists()
    resumed = preprocess(cfg, progress=False)  # the killed writer's lock is taken over
    assert resumed.summary["run"]["units_now"] == DIALOGS - len(done)
    assert not (resumed.path / LOCK_FILE).exists()
    clean = preprocess(config(corpus, tmp_path / "clean"), progress=False)
    for name in ("frames", "spec"):
        assert np.array_equal(np.asarray(resumed.array(name)), np.asarray(clean.array(name))), name
    for col in ("utt_id", "frame_indices", "audio_seconds", "status_frame", "status_audio"):
        assert resumed.manifest[col].tolist() == clean.manifest[col].tolist(), col


HOLDER = """
import sys, time
from emorec.preprocess.lock import store_lock
with store_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_is_refused_with_the_store_and_the_owner(corpus, tmp_path):
    cfg = config(corpus, tmp_path / "stores")
    store = cfg.store_dir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLocked) as e:
            preprocess(cfg, progress=False)
        assert str(e.value).startswith(f"{store} is being written by process {holder.pid} (lock {store / LOCK_FILE})")
        cfg_file = tmp_path / "pre.yaml"
        cfg_file.write_text(yaml.safe_dump({"preprocess": cfg.model_dump(mode="json")}))
        res = subprocess.run(
            [sys.executable, "-c", "from emorec.cli import app; app()", "preprocess", "--config", str(cfg_file), "-q"],
            check=False,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert res.returncode == 2 and f"being written by process {holder.pid}" in res.stderr
        assert not (store / "shards").exists()  # the refused writers touched nothing
    finally:
        holder.kill()
        holder.wait()
    with store_lock(store) as lock:  # the holder was killed: the kernel dropped its lock
        assert lock.stale_owner == holder.pid
        with pytest.raises(StoreLocked, match=f"process {os.getpid()}"):  # held here: refused here too
            preprocess(cfg, progress=False)


def test_a_stale_lock_file_is_taken_over(corpus, tmp_path, capsys):
    cfg = config(corpus, tmp_path / "stores")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    cfg.store_dir().mkdir(parents=True)
    (cfg.store_dir() / LOCK_FILE).write_text(f"{gone.pid}\n")
    fs = preprocess(cfg, progress=False)
    assert (fs.path / "complete").is_file() and not (fs.path / LOCK_FILE).exists()
    assert f"left by process {gone.pid}, which is gone" in capsys.readouterr().err


def test_a_failed_start_leaves_no_store_behind(tmp_path):
    from emorec.preprocess.run import preprocess_utterances

    cfg = PreprocessConfig(corpus="toy", out=str(tmp_path / "stores"), modalities=["audio"])
    with pytest.raises(ValueError, match="no utterances"):
        preprocess_utterances([], cfg, progress=False)
    assert not cfg.store_dir().exists()
    with store_lock(tmp_path / "made"):
        pass
    assert not (tmp_path / "made").exists()


def test_the_worker_watchdog_exits_when_the_parent_changes(tmp_path):
    script = textwrap.dedent("""
        import os, sys, time
        from emorec.preprocess.lock import die_with_parent
        die_with_parent(os.getppid() + 1)  # not our parent: as if it had died already
        time.sleep(30)
    """)
    res = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        timeout=20,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert res.returncode == 1
