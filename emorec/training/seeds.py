"""`emorec train --seeds 0,1,2`: the same experiment from several seeds, mean ± std over them.

Each seed's run is a complete run directory (`<out>/seed_<s>/`, resumable on its own); the folds stay the
same (the split has its own seed), only initialisation, batch order and augmentation change. `<out>/metrics.json`
holds, per model, `<metric>_mean` / `<metric>_std` (sample std) over the seeds and each seed's result.
"""

from __future__ import annotations

import logging
from pathlib import Path

from emorec.config import ExperimentConfig
from emorec.training.metrics import summarise_folds

log = logging.getLogger("emorec.train")
CARRIED = ("protocol", "experiment", "label_set", "split", "leakage", "speaker_independent", "utterances")


def parse_seeds(text: str) -> list[int]:
    """'0,1,2' or '0-2' -> [0, 1, 2]; duplicates refused."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        lo, _, hi = part.partition("-")
        try:
            seeds += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
        except ValueError:
            raise ValueError(f"--seeds {text!r}: expected integers like 0,1,2 or 0-2") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds {text!r}: give distinct seeds, e.g. 0,1,2")
    return seeds


def summarise_seeds(per_seed: dict[int, dict]) -> dict:
    """One metrics dict over several runs of one experiment (run metrics keyed by seed)."""
    first = next(iter(per_seed.values()))
    out = {k: first[k] for k in CARRIED if k in first} | {"seeds": list(per_seed)}
    keys = [k for k, v in first.items() if isinstance(v, dict) and "accuracy" in v]
    for key in keys:
        runs = [m[key] for m in per_seed.values() if key in m]
        summary = summarise_folds(runs)
        summary.pop("folds")
        summary.pop("n_folds")
        summary["n_test"] = runs[0].get("n_test", 0)  # the same test rows in every run
        summary["confusion"] = runs[0].get("confusion")  # the first seed's; the others are in their runs
        summary["seeds"] = {
            str(s): {k: v for k, v in m[key].items() if isinstance(v, float)} for s, m in per_seed.items()
        }
        out[key] = summary
    out["curves"] = {
        key: [f"seed_{s}/{p}" for s, m in per_seed.items() for p in m.get("curves", {}).get(key, [])] for key in keys
    }
    return out


def run_seeds(cfg: ExperimentConfig, out: str | Path, seeds: list[int], *, workers: int = 1) -> dict:
    """Run the experiment once per seed into `<out>/seed_<s>` and write the summary to `<out>/metrics.json`."""
    from emorec.training.experiment import run_experiment, write_json
    from emorec.training.report import write_report

    out = Path(out)
    per_seed = {}
    for i, seed in enumerate(seeds):
        log.info("seed %d (%d of %d)", seed, i + 1, len(seeds))
        per_seed[seed] = run_experiment(cfg.model_copy(update={"seed": seed}), out / f"seed_{seed}", workers=workers)
    metrics = summarise_seeds(per_seed)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", metrics)
    write_report(out)
    return metrics
