"""`emorec demo [--out DIR]`: synthetic IEMOCAP corpus + `train --config demo`, metrics table at the end."""

from __future__ import annotations

import time
from pathlib import Path

import typer

DIALOGS_PER_SESSION, UTTERANCES_PER_DIALOG = 8, 40  # the demo corpus: 5 sessions x 8 dialogs x 40 = 1,600


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Where the corpus, feature store and run go."),
        seed: int = typer.Option(0, "--seed", help="Seed of the synthetic corpus and of training."),
        set_: list[str] = typer.Option([], "--set", help="Override a key of configs/demo.yaml."),
        workers: int = typer.Option(2, "--workers", help="Worker processes for corpus generation and preprocessing."),
        dialogs: int = typer.Option(
            DIALOGS_PER_SESSION, "--dialogs-per-session", help="Size of the synthetic corpus: dialogs per session."
        ),
        utterances: int = typer.Option(
            UTTERANCES_PER_DIALOG,
            "--utterances-per-dialog",
            help="Size of the synthetic corpus: utterances per dialog.",
        ),
        threads: str = typer.Option(
            "auto", "--threads", help="Torch threads: 'auto' (the fastest here, measured) or a number."
        ),
    ) -> None:
        """Generate the synthetic IEMOCAP corpus, train the three recognisers and the fusion, print the metrics."""
        from emorec.commands.common import print_metrics, setup_logging
        from emorec.config import load_config
        from emorec.corpora.synth import SynthConfig, generate_iemocap
        from emorec.training.experiment import run_experiment
        from emorec.training.threads import set_threads

        setup_logging()
        t0 = time.time()
        typer.echo(f"torch threads: {set_threads(threads)}")
        corpus_dir = out / "corpus"
        root = generate_iemocap(
            corpus_dir,
            SynthConfig(seed=seed, workers=workers, dialogs_per_session=dialogs, utterances_per_dialog=utterances),
        )
        typer.echo(f"synthetic corpus: {root} ({time.time() - t0:.0f} s)")
        overrides = [f"corpus.root={root}", f"store_dir={out / 'stores'}", f"seed={seed}", *set_]
        cfg = load_config("demo", overrides)
        metrics = run_experiment(cfg, out / "run", workers=workers)
        print_metrics(metrics)
        typer.echo(f"report: {out / 'run' / 'report.html'}  (total {time.time() - t0:.0f} s)")
