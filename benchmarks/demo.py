"""Where the time of `emorec demo` goes: the synthetic corpus, preprocessing, each fit, the report.

    python benchmarks/demo.py [--out /tmp/demo_bench] [--threads auto] [--seed 0] [--keep]

Runs the demo from nothing (a fresh output folder: corpus, store and run), prints the seconds per stage and per
fit, the metrics, and as its last line `demo_seconds: N` (the whole demo, the install excluded).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path


def fit_seconds(run: Path) -> list[tuple[str, float, int]]:
    """(fit folder, seconds, epochs) of every fit of the run, from its files' times."""
    out = []
    for cfg in sorted(run.rglob("fit_config.json")):
        done = cfg.parent / "fit_done.json"
        if done.exists():
            epochs = json.loads(done.read_text()).get("epochs_run", 0)
            out.append((str(cfg.parent.relative_to(run)), done.stat().st_mtime - cfg.stat().st_mtime, epochs))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None, help="work folder (default: a temporary one, removed afterwards)")
    ap.add_argument("--threads", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args(argv)

    from emorec.commands.common import metrics_table, setup_logging
    from emorec.commands.demo import DIALOGS_PER_SESSION, UTTERANCES_PER_DIALOG
    from emorec.config import load_config
    from emorec.corpora.synth import SynthConfig, generate_iemocap
    from emorec.training.experiment import run_experiment
    from emorec.training.threads import set_threads

    setup_logging()
    out = Path(args.out or tempfile.mkdtemp(prefix="emorec-demo-bench-"))
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    threads = set_threads(args.threads)
    t_threads = time.perf_counter() - t0
    t = time.perf_counter()
    synth = SynthConfig(
        seed=args.seed,
        workers=args.workers,
        dialogs_per_session=DIALOGS_PER_SESSION,
        utterances_per_dialog=UTTERANCES_PER_DIALOG,
    )
    root = generate_iemocap(out / "corpus", synth, progress=False)
    t_synth = time.perf_counter() - t
    cfg = load_config("demo", [f"corpus.root={root}", f"store_dir={out / 'stores'}", f"seed={args.seed}"])
    t = time.perf_counter()
    metrics = run_experiment(cfg, out / "run", workers=args.workers)
    t_train = time.perf_counter() - t
    total = time.perf_counter() - t0
    store = next((out / "stores").iterdir())
    t_pre = json.loads((store / "summary.json").read_text())["run"]["seconds"]
    fits = fit_seconds(out / "run")
    print(f"torch threads: {threads} (chosen in {t_threads:.1f} s)")
    print(f"{'stage':<40}{'seconds':>9}")
    print(f"{'synthetic corpus':<40}{t_synth:>9.1f}")
    print(f"{'preprocessing':<40}{t_pre:>9.1f}")
    for name, seconds, epochs in fits:
        print(f"{'  fit ' + name + f' ({epochs} epochs)':<40}{seconds:>9.1f}")
    print(f"{'fits (sum)':<40}{sum(s for _, s, _ in fits):>9.1f}")
    print(f"{'training, fusion, evaluation, report':<40}{t_train - t_pre:>9.1f}")
    print(metrics_table(metrics))
    if not args.keep and not args.out:
        shutil.rmtree(out, ignore_errors=True)
    print(f"demo_seconds: {total:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
