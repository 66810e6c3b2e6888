"""`emorec serve --model BUNDLE [--host 127.0.0.1 --port 8000]`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        model: Path = typer.Option(..., "--model", help="Bundle written by emorec export (directory or .zip)."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", help="Port to listen on."),
        max_upload_mb: float = typer.Option(200.0, "--max-upload-mb", help="Largest accepted upload (MB)."),
        max_duration_s: float = typer.Option(600.0, "--max-duration", help="Longest accepted video (seconds)."),
    ) -> None:
        """Web page and HTTP API: upload a clip, get the emotion of each utterance and a timeline."""
        import uvicorn

        from emorec.inference.bundle import BundleError
        from emorec.commands.common import fail
        from emorec.inference import Recognizer
        from emorec.serve import create_app

        try:
            recognizer = Recognizer.load(model)
        except (BundleError, ValueError) as e:
            fail(str(e))
        app = create_app(recognizer, max_upload_mb=max_upload_mb, max_duration_s=max_duration_s)
        typer.echo(f"emorec serving {model} on http://{host}:{port}/ (API docs at /docs)", err=True)
        uvicorn.run(app, host=host, port=port, log_level="info")
