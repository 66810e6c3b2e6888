"""Memory and speed at the real corpus' scale: preprocessing and one leave-one-session-out fold of the demo's
models on the synthetic IEMOCAP at full size (5 sessions, 150 dialogs, about 10,000 utterances, 720x480 30 fps
video) and at a tenth of it.

    python benchmarks/scale.py --work /data/scale [--sizes tenth full] [--workers 2] [--gen-workers 2] [--epochs N]

Each stage runs in its own process (`emorec preprocess`, `emorec train`), so its peak resident memory is its
own (os.wait4); corpora are generated once and kept in --work. Prints per size and stage: wall seconds,
utterances per second and peak RSS, then the ratios full / tenth (the memory target: <= 1.3x).
`--epochs N` caps every fit at N epochs (memory and throughput need a few epochs, not convergence); the
training time of a full run is then its epochs times the epoch times printed per fit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from demo import fit_seconds  # benchmarks/demo.py: each fit's seconds and epochs

SIZES = {"tenth": 3, "full": 30}  # dialogs per session (5 sessions)
TRAIN = ["--set", "split={kind: session, test_groups: ['5'], val_by: speaker}"]


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


def epoch_caps(epochs: int | None) -> list[str]:
    if epochs is None:
        return []
    keys = [f"models.{m}.fit.epochs" for m in ("frame", "audio", "text")] + ["fusion.fit.epochs"]
    return [arg for key in keys for arg in ("--set", f"{key}={epochs}")]


def measure(work: Path, size: str, workers: int, gen_workers: int, epochs: int | None) -> dict:
    import yaml

    from emorec.config import load_config

    root, t_gen = corpus(work, size, gen_workers)
    stores, run_dir = work / f"stores-{size}", work / f"run-{size}"
    common = ["--config", "demo", "--set", f"corpus.root={root}", "--set", f"store_dir={stores}", *TRAIN]
    cfg = work / f"preprocess-{size}.yaml"
    demo = dict(load_config("demo").preprocess)
    cfg.write_text(
        yaml.safe_dump({"preprocess": demo, "corpus": {"name": "iemocap", "root": str(root)}, "store_dir": str(stores)})
    )
    t_pre, rss_pre = run(
        [sys.executable, "-m", "emorec.cli", "preprocess", "--config", str(cfg), "--workers", str(workers)]
    )
    summary = json.loads(next(stores.glob("*/summary.json")).read_text())
    n = summary["utterances"]
    train = [sys.executable, "-m", "emorec.cli", "train", *common, *epoch_caps(epochs), "--out", str(run_dir)]
    t_train, rss_train = run(train)
    for name, seconds, n_epochs in fit_seconds(run_dir):
        print(f"{size}: {name}: {n_epochs} epochs, {seconds:.1f} s ({seconds / max(n_epochs, 1):.1f} s/epoch)")
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
    ap.add_argument("--epochs", type=int, default=None, help="cap every fit at this many epochs")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = [measure(args.work, s, args.workers, args.gen_workers, args.epochs) for s in args.sizes]
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
