"""`emorec report RUN_DIR`: rebuild report.html and the plots from metrics.json."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        run_dir: Path = typer.Argument(..., help="A run (or evaluation) directory holding metrics.json."),
    ) -> None:
        """Rebuild report.html, confusion matrices and training curves of a run directory."""
        from emorec.commands.common import fail
        from emorec.training.report import write_report

        if not (run_dir / "metrics.json").exists():
            fail(f"{run_dir / 'metrics.json'} not found: is {run_dir} a run directory?")
        try:
            path = write_report(run_dir)
        except ValueError as e:  # a damaged metrics.json: its line, not a traceback
            fail(str(e))
        typer.echo(f"wrote {path or run_dir / 'report.html'}")
