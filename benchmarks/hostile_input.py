"""Cost of hostile input: parse time of long lines (old regex vs the parser now used), and how fast preprocessing
workers exit after kill -9 of their parent.

    python benchmarks/hostile_input.py [--sizes 15000 60000 200000] [--no-kill]

Parse times: an IEMOCAP transcription line `<id>` + N spaces + `x` (no colon), parsed by the regex the reader
used before (`^(Ses\\d\\d[FM]_\\S+?)\\s*(\\[[^\\]]*\\])?\\s*:\\s?(.*)$`) and by `parse_transcription` now; an SRT cue
text of N '<' through the old markup pattern `<[^>]*>` and `clean_cue_text` now. Worker exit: a synthetic
corpus preprocessed with --workers 2 and a unit that lingers, the parent killed with SIGKILL after two shards;
prints the seconds until both workers and the resource tracker are gone (or 'still running after 10 s').
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OLD_TRANSCRIPT = re.compile(r"^(Ses\d\d[FM]_\S+?)\s*(\[[^\]]*\])?\s*:\s?(.*)$")
OLD_TAG = re.compile(r"<[^>]*>")
TURN = "Ses01F_impro01_F000"


def _time(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def parse_times(sizes: list[int]) -> None:
    from emorec.corpora.iemocap import parse_transcription
    from emorec.inference.segment import clean_cue_text

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.txt"
        for n in sizes:
            line = TURN + " " * n + "x"
            path.write_text(line + "\n")
            old = _time(OLD_TRANSCRIPT.match, line) if n <= 60000 else float("nan")
            new = _time(parse_transcription, path, {TURN}, [])
            print(f"transcription  {n:>7} spaces: old regex {old:8.3f} s   now {new:8.4f} s", flush=True)
        for n in sizes:
            text = "<" * n
            old = _time(OLD_TAG.sub, "", text) if n <= 60000 else float("nan")
            new = _time(clean_cue_text, [text])
            print(f"cue markup     {n:>7} '<'   : old regex {old:8.3f} s   now {new:8.4f} s", flush=True)


PARENT = """
import sys, time
import emorec.preprocess.run as run
import linger
run.process_unit = linger.slow
from emorec.cli import app
app(["preprocess", "--config", sys.argv[1], "--workers", "2", "--quiet"])
"""
LINGER = """
import time
from emorec.preprocess.unit import process_unit
def slow(task):
    result = process_unit(task)
    time.sleep(60)
    return result
"""


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(stat[1]) == pid:
            out.append(int(entry.name))
    return out


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def worker_exit() -> None:
    import yaml

    from emorec.corpora.synth.iemocap import SynthConfig, generate_iemocap
    from emorec.preprocess.config import PreprocessConfig

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        generate_iemocap(
            tmp / "c",
            SynthConfig(seed=1, sessions=1, dialogs_per_session=3, utterances_per_dialog=2, frame_size=(96, 64)),
            progress=False,
        )
        cfg = PreprocessConfig(
            corpus="iemocap",
            root=str(tmp / "c"),
            out=str(tmp / "s"),
            frame_size=32,
            spec_size=(16, 32),
            n_mels=16,
            max_audio_seconds=1.0,
            modalities=["frame", "audio"],
        )
        (tmp / "pre.yaml").write_text(yaml.safe_dump({"preprocess": cfg.model_dump(mode="json")}))
        (tmp / "linger.py").write_text(LINGER)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), *sys.path]), "OMP_NUM_THREADS": "1"}
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT, str(tmp / "pre.yaml")], env=env, start_new_session=True
        )
        shards = cfg.store_dir() / "shards"
        while len(list(shards.glob("*.npz"))) < 2 and parent.poll() is None:
            time.sleep(0.05)
        kids = _children(parent.pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        t0 = time.perf_counter()
        while any(_running(k) for k in kids) and time.perf_counter() - t0 < 10:
            time.sleep(0.01)
        left = [k for k in kids if _running(k)]
        if left:
            print(f"worker exit: {len(left)} of {len(kids)} children still running after 10 s")
            for k in left:
                os.kill(k, signal.SIGKILL)
        else:
            print(
                f"worker exit: {len(kids)} children (2 workers + resource tracker) gone "
                f"{time.perf_counter() - t0:.3f} s after kill -9 of the parent"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[15000, 60000, 200000])
    ap.add_argument("--no-kill", action="store_true", help="skip the worker-exit measurement")
    args = ap.parse_args()
    parse_times(args.sizes)
    if not args.no_kill:
        worker_exit()


if __name__ == "__main__":
    main()
