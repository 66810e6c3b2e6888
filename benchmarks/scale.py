"""Memory and speed at the real corpus' scale: preprocessing and one leave-one-session-out fold of the demo's
models on the synthetic IEMOCAP at full size (5 sessions, 150 dialogs, about 10,000 utterances, 720x480 30 fps
video) and at a tenth of it.

    python benchmarks/scale.py --work /data/scale [--sizes tenth full] [--workers 2] [--gen-workers 2]

Each stage runs in its own process (`emorec preprocess`, `emorec train`), so its peak resident memory is its
own (os.wait4); corpora are generated once and kept in --work. Prints per size and stage: wall seconds,
utterances per second and peak RSS, then the ratios full / tenth (the memory target: <= 1.3x).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SIZES = {"tenth": 3, "full": 30}  # dialogs per session (5 sessions)
TRAIN = ["--set", "split={kind: session, test_groups: ['5'], val_by: speaker}", "--set", "preprocess.frame_size=48"]


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of a command run as its own process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024


def corpus(work: Path, size: str, gen_workers: int) -> tuple[Path, float]:
    root = work / f"corpus-{size}" / "IEMOCAP_full_release"
    if (root / "synth_truth.csv").exists():
        return root, 0.0
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "emorec.cli",
            "synth",
            "iemocap",
            str(root.parent),
            "--size",
            "full",
            "--dialogs-per-session",
            str(SIZES[size]),
            "--workers",
            str(gen_workers),
        ],
        check=True,
    )
    return root, time.perf_counter() - t


def measure(work: Path, size: str, workers: int, gen_workers: int) -> dict:
    root, t_gen = corpus(work, size, gen_workers)
    stores, run_dir = work / f"stores-{size}", work / f"run-{size}"
    common = ["--config", "demo", "--set", f"corpus.root={root}", "--set", f"store_dir={stores}", *TRAIN]
    cfg = work / f"preprocess-{size}.yaml"
    cfg.write_text(
        f"preprocess:\n  frame_size: 48\n  spec_size: [64, 96]\n  n_mels: 64\n  max_length: 32\n"
        f"corpus: {{name: iemocap, root: {root}}}\nstore_dir: {stores}\n"
    )
    t_pre, rss_pre = run(
        [sys.executable, "-m", "emorec.cli", "preprocess", "--config", str(cfg), "--workers", str(workers)]
    )
    summary = json.loads(next(stores.glob("*/summary.json")).read_text())
    n = summary["utterances"]
    t_train, rss_train = run([sys.executable, "-m", "emorec.cli", "train", *common, "--out", str(run_dir)])
    return {
        "size": size,
        "utterances": n,
        "generate_s": t_gen,
        "preprocess_s": t_pre,
        "preprocess_utt_s": n / t_pre,
        "preprocess_rss_mb": rss_pre,
        "train_s": t_train,
        "train_rss_mb": rss_train,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--sizes", nargs="+", default=["tenth", "full"], choices=list(SIZES))
    ap.add_argument("--workers", type=int, default=1, help="preprocessing workers (1: memory of one process)")
    ap.add_argument("--gen-workers", type=int, default=2)
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = [measure(args.work, s, args.workers, args.gen_workers) for s in args.sizes]
    keys = [
        "utterances",
        "generate_s",
        "preprocess_s",
        "preprocess_utt_s",
        "preprocess_rss_mb",
        "train_s",
        "train_rss_mb",
    ]
    print(f"{'size':<8}" + "".join(f"{k:>20}" for k in keys))
    for r in rows:
        print(f"{r['size']:<8}" + "".join(f"{r[k]:>20.1f}" for k in keys))
    if len(rows) == 2:
        a, b = rows
        for k in ("preprocess_rss_mb", "train_rss_mb", "preprocess_utt_s"):
            print(f"ratio {b['size']}/{a['size']} {k}: {b[k] / a[k]:.2f}")
    (args.work / "scale.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
