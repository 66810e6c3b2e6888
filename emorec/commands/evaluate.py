"""`emorec evaluate --run RUN_DIR --corpus NAME --root ROOT [--split NAME|all] [--out DIR] [--text-from asr]`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate(
        run: Path = typer.Option(..., "--run", help="A finished run directory (from emorec train)."),
        corpus: str = typer.Option(..., "--corpus", help="Corpus reader: iemocap, meld, ravdess, cremad, manifest."),
        root: str = typer.Option(..., "--root", help="Corpus root to evaluate on."),
        split: str = typer.Option(
            "all", "--split", help="all (every utterance), config (the run's split), or a split kind."
        ),
        out: Path | None = typer.Option(None, "--out", help="Output directory (default RUN/eval-<corpus>-<split>)."),
        workers: int = typer.Option(1, "--workers"),
        text_from: str = typer.Option(
            "transcript", "--text-from", help="transcript, or asr: the text model reads Whisper's words instead."
        ),
        language: str | None = typer.Option(
            None, "--language", help="With --text-from asr: e.g. en (default: detected)."
        ),
    ) -> None:
        """Evaluate a run's trained models on another corpus root or split; writes metrics.json and report.html."""
        from emorec.commands.common import fail, print_metrics, setup_logging
        from emorec.training.evaluate import evaluate_run

        setup_logging()
        try:
            metrics = evaluate_run(
                run, corpus, root, split=split, out=out, workers=workers, text_from=text_from, language=language
            )
        except (FileNotFoundError, ValueError, KeyError) as e:
            fail(e.args[0] if isinstance(e, KeyError) and e.args else str(e))
        print_metrics(metrics)
