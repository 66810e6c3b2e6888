"""`emorec synth`: write synthetic corpora in real release layouts."""

from __future__ import annotations

import time
from pathlib import Path

import typer

synth_app = typer.Typer(
    help="Write synthetic corpora in real release layouts (no licensed data needed).", no_args_is_help=True
)


def _frame_size(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"{value!r}: expected WIDTHxHEIGHT, e.g. 720x480") from None
    return w, h


@synth_app.command("iemocap")
def iemocap(
    out: Path = typer.Argument(..., help="Folder to write; the corpus goes to OUT/IEMOCAP_full_release."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same corpus."),
    size: str = typer.Option("small", help="'small' (fast default) or 'full' (about the real scale, 720x480)."),
    sessions: int | None = typer.Option(None, help="Number of sessions (two actors each). (default 5)"),
    dialogs_per_session: int | None = typer.Option(None, help="Dialogs per session. (small 4, full 30)"),
    utterances_per_dialog: int | None = typer.Option(
        None, help="Utterances per dialog. (small 24; full: drawn per dialog like the real corpus)"
    ),
    frame_size: str | None = typer.Option(None, help="Video frame size WxH. (small 192x128, full 720x480)"),
    modality_confusion: float | None = typer.Option(
        None, help="Chance that a modality expresses an emotion of another class (default 0.3)."
    ),
    face_confusion: float | None = typer.Option(None, help="Override of --modality-confusion for the face."),
    voice_confusion: float | None = typer.Option(None, help="Override of --modality-confusion for the voice."),
    text_confusion: float | None = typer.Option(None, help="Override of --modality-confusion for the text."),
    no_media: bool = typer.Option(False, "--no-media", help="Write only the text files (labels, transcripts)."),
    workers: int = typer.Option(1, help="Processes rendering dialogs in parallel."),
) -> None:
    """Write a synthetic IEMOCAP corpus: drawn two-actor video, speech-like audio and transcripts."""
    from emorec.corpora.synth import SynthConfig, generate_iemocap, summary

    try:
        cfg = SynthConfig.preset(
            size,
            seed=seed,
            sessions=sessions,
            dialogs_per_session=dialogs_per_session,
            utterances_per_dialog=utterances_per_dialog,
            frame_size=_frame_size(frame_size),
            modality_confusion=modality_confusion,
            face_confusion=face_confusion,
            voice_confusion=voice_confusion,
            text_confusion=text_confusion,
            media=not no_media,
            workers=workers,
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    t0 = time.perf_counter()
    try:
        root = generate_iemocap(out, cfg)
    except FileExistsError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(summary(root))
    typer.echo(f"written in {time.perf_counter() - t0:.1f} s")


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")
