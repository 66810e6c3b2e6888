"""The `emorec` command. Each command group lives in `emorec/commands/<name>.py` with a `register(app)`."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="emorec",
    help="Multimodal emotion recognition from video: frames, speech and transcript, fused by a transformer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = ["synth", "data", "preprocess", "train", "evaluate", "report", "demo", "predict", "export", "serve"]

for _name in COMMAND_MODULES:
    importlib.import_module(f"emorec.commands.{_name}").register(app)


@app.command()
def version() -> None:
    """Print the emorec version."""
    from emorec import __version__

    typer.echo(__version__)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
