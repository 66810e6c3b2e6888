"""`emorec preprocess`: turn a corpus into a feature store once (resumable); `show` draws a contact sheet."""

from __future__ import annotations

import json
from pathlib import Path

import typer

preprocess_app = typer.Typer(
    help="Turn a corpus into model-ready arrays (frame crops, spectrograms, tokens) stored once; resumable.",
    invoke_without_command=True,
)


def _fail(message: str, code: int = 2):
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@preprocess_app.callback()
def run(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="YAML with a `preprocess:` block (an experiment config) or top-level preprocess keys.",
    ),
    workers: int = typer.Option(1, min=1, help="Processes working on dialogs in parallel (1 = in this process)."),
    limit: int | None = typer.Option(None, min=1, help="Only the first N utterances (a quick look; separate store)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Preprocess the corpus named by --config into <out>/<corpus>-<hash>; prints the store and a summary."""
    if ctx.invoked_subcommand is not None:
        return
    if config is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(2)
    from emorec.preprocess.config import load_config
    from emorec.preprocess.run import format_summary, preprocess

    try:
        cfg = load_config(config)
    except ValueError as e:
        _fail(str(e))
    from emorec.preprocess.store import is_complete

    if is_complete(cfg.store_dir(limit)):
        typer.echo(f"store: {cfg.store_dir(limit)} (already complete; delete it to rebuild)")
        return
    try:
        store = preprocess(cfg, workers=workers, limit=limit, progress=not quiet)
    except (FileNotFoundError, KeyError, ValueError, RuntimeError) as e:
        _fail(str(e).strip("'\""))
    typer.echo(f"store: {store.path}")
    if store.summary:
        typer.echo(format_summary(store.summary))


@preprocess_app.command("show")
def show(
    store: Path = typer.Argument(..., help="A feature store folder (<out>/<corpus>-<hash>)."),
    n: int = typer.Option(16, min=1, help="How many utterances (spread over the store)."),
    out: Path | None = typer.Option(None, help="PNG to write (default: STORE/contact_sheet.png)."),
    summary: bool = typer.Option(False, "--summary", help="Also print the store's summary.json."),
) -> None:
    """Write a PNG contact sheet of frame crops and spectrograms with their labels."""
    from emorec.preprocess.show import contact_sheet
    from emorec.preprocess.store import FeatureStore, StoreError

    try:
        fs = FeatureStore.open(store)
    except (StoreError, FileNotFoundError) as e:
        _fail(str(e))
    png = contact_sheet(fs, out or fs.path / "contact_sheet.png", n=n)
    typer.echo(f"wrote {png}")
    if summary:
        typer.echo(json.dumps(fs.summary, indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(preprocess_app, name="preprocess")
