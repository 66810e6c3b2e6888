"""The `emorec` command. Each command group lives in `emorec/commands/<name>.py` with a `register(app)`."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading

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


def main() -> None:
    """The console script. After a command that asked for it (`skip_teardown`), the process ends as soon as its
    threads are done and its output is flushed, without the interpreter's teardown."""
    from emorec.commands.common import teardown_skipped

    try:
        app()
        code = 0
    except SystemExit as e:
        code = e.code
    if not teardown_skipped() or not isinstance(code, int | None):
        raise SystemExit(code)
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    main()
