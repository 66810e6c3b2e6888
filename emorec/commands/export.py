"""`emorec export --run RUN_DIR --out model.emorec [--fold NAME]`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        run: Path = typer.Option(..., "--run", help="A finished training run directory (from emorec train)."),
        out: Path = typer.Option(
            ..., "--out", help="Bundle to write: a directory, or a .zip file when it ends in .zip."
        ),
        fold: str | None = typer.Option(None, "--fold", help="Which fold's models (needed when the run has several)."),
    ) -> None:
        """Package a run's trained models (one fold) and preprocessing settings as a portable bundle."""
        from emorec.commands.common import fail
        from emorec.inference.bundle import BundleError, export_bundle, load_bundle

        try:
            path = export_bundle(run, out, fold=fold)
            bundle = load_bundle(path)  # proves it loads: formats, weights and classes check out
        except BundleError as e:
            fail(str(e))
        info = bundle.info
        typer.echo(
            f"wrote {path} (fold {info['source']['fold']}, models: {', '.join(bundle.models)}, "
            f"classes: {', '.join(bundle.classes)})"
        )
