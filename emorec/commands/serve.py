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
        max_subtitle_mb: float = typer.Option(5.0, "--max-subtitle-mb", help="Largest accepted subtitle file (MB)."),
        max_segments: int = typer.Option(
            1000, "--max-segments", min=1, help="Most segments (cues, windows) per request."
        ),
        max_segments_per_s: float = typer.Option(
            4.0, "--max-segments-per-second", min=0.01, help="Most segments per second of video."
        ),
        queue_timeout_s: float = typer.Option(
            30.0, "--queue-timeout", min=0.0, help="Seconds a request waits for the model before a 503."
        ),
        max_queue: int = typer.Option(8, "--max-queue", min=0, help="Requests that may wait for the model at once."),
    ) -> None:
        """Web page and HTTP API: upload a clip, get the emotion of each utterance and a timeline."""
        import uvicorn

        from emorec.commands.common import fail
        from emorec.inference import Recognizer
        from emorec.inference.bundle import BundleError
        from emorec.serve import create_app

        try:
            recognizer = Recognizer.load(model)
        except (BundleError, ValueError) as e:
            fail(str(e))
        app = create_app(
            recognizer,
            max_upload_mb=max_upload_mb,
            max_duration_s=max_duration_s,
            max_subtitle_mb=max_subtitle_mb,
            max_segments=max_segments,
            max_segments_per_s=max_segments_per_s,
            queue_timeout_s=queue_timeout_s,
            max_queue=max_queue,
        )
        typer.echo(f"emorec serving {model} on http://{host}:{port}/ (API docs at /docs)", err=True)
        uvicorn.run(app, host=host, port=port, log_level="info")
