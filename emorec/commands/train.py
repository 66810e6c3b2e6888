"""`emorec train --config FILE [--out RUN_DIR] [--set key=value ...]`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        config: str = typer.Option(
            ..., "--config", "-c", help="Experiment YAML, or a shipped config name (see configs/)."
        ),
        out: Path | None = typer.Option(None, "--out", "-o", help="Run directory (default runs/<name>)."),
        set_: list[str] = typer.Option([], "--set", help="Override a config key: --set models.frame.fit.epochs=3"),
        workers: int = typer.Option(1, "--workers", help="Preprocessing worker processes."),
        threads: str = typer.Option(
            "auto", "--threads", help="Torch threads: 'auto' (the fastest here, measured) or a number."
        ),
        seeds: str | None = typer.Option(
            None, "--seeds", help="Run once per seed (0,1,2 or 0-2) into RUN_DIR/seed_<s>; mean ± std in RUN_DIR."
        ),
    ) -> None:
        """Preprocess (when needed), train every model per fold, fuse, evaluate and write the run directory."""
        from emorec.commands.common import fail, print_metrics, setup_logging
        from emorec.config import load_config
        from emorec.training.experiment import run_experiment
        from emorec.training.seeds import parse_seeds, run_seeds
        from emorec.training.threads import set_threads

        setup_logging()
        try:
            set_threads(threads)
            cfg = load_config(config, set_)
            seed_list = parse_seeds(seeds) if seeds else None
        except (FileNotFoundError, ValueError) as e:
            fail(str(e))
        run_dir = out or Path("runs") / cfg.name
        try:
            if seed_list:
                metrics = run_seeds(cfg, run_dir, seed_list, workers=workers)
            else:
                metrics = run_experiment(cfg, run_dir, workers=workers)
        except (FileNotFoundError, ValueError, KeyError, RuntimeError) as e:  # bad root, split, label set, data
            fail(e.args[0] if isinstance(e, KeyError) and e.args else str(e))
        print_metrics(metrics)
        typer.echo(f"run directory: {run_dir}  (report: {run_dir / 'report.html'})")
