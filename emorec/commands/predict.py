"""`emorec predict VIDEO_OR_DIR_OR_GLOB... --model BUNDLE [--subtitles F] [--window S] [--json|--csv] [--out DIR]`."""

from __future__ import annotations

import glob
import sys
from pathlib import Path

import typer

from emorec.media import AUDIO_SUFFIXES, VIDEO_SUFFIXES

MEDIA_SUFFIXES = VIDEO_SUFFIXES | AUDIO_SUFFIXES
SUBTITLE_SUFFIXES = (".srt", ".vtt", ".json", ".csv")


def expand_inputs(items: list[str]) -> tuple[list[Path], list[str]]:
    """Media files named by paths, directories (their media files, sorted) or glob patterns; plus problems."""
    files, problems = [], []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in MEDIA_SUFFIXES)
            if not found:
                problems.append(f"{p}: no video files in this directory")
            files += found
        elif p.exists():
            files.append(p)
        elif any(ch in item for ch in "*?["):
            found = sorted(Path(f) for f in glob.glob(item, recursive=True) if Path(f).is_file())
            if not found:
                problems.append(f"{item}: no file matches this pattern")
            files += found
        else:
            problems.append(f"{p}: no such file or directory")
    return list(dict.fromkeys(files)), problems


def subtitles_for(video: Path, option: Path | None) -> Path | None:
    """The subtitle file of a video: --subtitles itself (one video), or <stem>.srt/.vtt/.json/.csv inside the
    --subtitles directory (several videos)."""
    if option is None:
        return None
    if option.is_dir():
        for suffix in SUBTITLE_SUFFIXES:
            cand = option / f"{video.stem}{suffix}"
            if cand.is_file():
                return cand
        return None
    return option


def _table(df, file: str | None = None) -> str:
    cols = [c for c in df.columns if c not in ("model", "side")]
    out = df[cols].copy()
    out["text"] = out["text"].fillna("").astype(str).str.slice(0, 40)
    if file is not None:
        out.insert(0, "file", file)
    return out.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3f}")


def output_stems(files: list[Path]) -> dict[Path, str]:
    """A distinct output name per input: its stem; with the suffix when two inputs share a stem (clip.mp4, clip.wav);
    with the folder too when they share a name; numbered as a last resort."""

    def name(f: Path, level: int) -> str:
        return [f.stem, f"{f.stem}_{f.suffix.lstrip('.')}", f"{f.parent.name}_{f.stem}_{f.suffix.lstrip('.')}"][level]

    out: dict[Path, str] = {}
    for f in files:
        level = next((k for k in range(3) if sum(name(g, k) == name(f, k) for g in files) == 1), 2)
        out[f] = name(f, level)
    taken: dict[str, int] = {}
    for f, stem in out.items():
        taken[stem] = taken.get(stem, 0) + 1
        if taken[stem] > 1:
            out[f] = f"{stem}_{taken[stem]}"
    return out


def _check_options(as_json, as_csv, subtitles, transcript, speaker_side, window, audio) -> Path | None:
    """The cue file or folder; exits with a message on contradictory or missing options."""
    from emorec.commands.common import fail

    if as_json and as_csv:
        fail("choose one of --json and --csv")
    if subtitles is not None and transcript is not None:
        fail("give --subtitles or --transcript, not both")
    if speaker_side not in ("auto", "left", "right", "full"):
        fail(f"--speaker-side must be auto, left, right or full, got {speaker_side!r}")
    if window is not None and window <= 0:
        fail("--window must be > 0 seconds")
    if audio is not None and not audio.is_file():
        fail(f"{audio}: no such audio file")
    cues = subtitles if subtitles is not None else transcript
    if cues is not None and not cues.exists():
        fail(f"{cues}: no such file or directory")
    return cues


def _check_speech_options(asr: str, vad: str) -> None:
    from emorec.commands.common import fail

    if asr not in ("auto", "on", "off") or vad not in ("auto", "silero", "energy"):
        fail(f"--asr must be auto, on or off and --vad auto, silero or energy (got {asr!r}, {vad!r})")


def parse_weights(text: str | None) -> dict[str, float] | None:
    """`frame=1,audio=0.5,text=0` -> {"frame": 1.0, ...}; exits with a message when malformed."""
    from emorec.commands.common import fail

    if not text:
        return None
    out = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            fail(f"--weights expects modality=number pairs such as frame=1,audio=0.5, got {item!r}")
    return out


def _load(model: Path, weights: dict | None = None, early=None):
    """The recogniser of the bundle; a bundle that cannot be loaded stops the speech pass begun `early`."""
    from emorec.commands.common import fail
    from emorec.inference import BundleError, Recognizer

    try:
        recognizer = Recognizer.load(model, fusion_weights=weights)
    except (BundleError, ValueError) as e:
        if early is not None:
            early.cancel()
        fail(str(e))
    if recognizer.untrained:
        typer.echo(f"warning: {model} holds untrained models; its labels are meaningless", err=True)
    return recognizer


def _early_speech(files, cues, window, audio, model: Path, asr: str, language, vad: str):
    """The speech pass of a single recording whose words Whisper will give, started before the bundle's
    models are imported (emorec.inference.early); None otherwise."""
    if len(files) != 1 or cues is not None or window is not None or audio is not None or asr == "off":
        return None
    from emorec.inference.early import EarlySpeech, bundle_reads_text
    from emorec.inference.segmenter import SpeechOptions

    if asr == "auto" and not bundle_reads_text(model):
        return None
    return EarlySpeech(files[0], SpeechOptions(asr=asr, language=language, vad=vad))


def _predict_all(recognizer, files: list[Path], cues, transcript: bool, out: Path | None, **options):
    """(tables, results, failed files): one video after the other; a failure costs that file, not the batch."""
    from tqdm import tqdm

    from emorec.inference import MediaError
    from emorec.inference.segment import SegmentFileError

    frames, results, failed = [], [], []
    stems = output_stems(files)
    bar = tqdm(files, desc="videos", unit="video", file=sys.stderr, disable=len(files) < 2)
    for f in bar:
        bar.set_postfix_str(f.name[-30:], refresh=False)
        try:
            cue_file = subtitles_for(f, cues)
            kind = {"transcript": cue_file} if transcript else {"subtitles": cue_file}
            result = recognizer.predict_video(f, **options, **kind)
        except (MediaError, SegmentFileError) as e:
            failed.append(f)
            tqdm.write(f"error: {e}", file=sys.stderr)
            continue
        except Exception as e:  # an unforeseen failure costs this file, not the batch
            failed.append(f)
            tqdm.write(f"error: {f}: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        for w in result.warnings:
            tqdm.write(f"warning: {f}: {w}", file=sys.stderr)
        df = result.to_frame()
        frames.append(df.assign(file=str(f))[["file", *df.columns]])
        results.append(result)
        if out is not None:
            result.save(out, stem=stems[f])
    bar.close()
    return frames, results, failed


def _print(frames, results, many: bool, as_json: bool, as_csv: bool) -> None:
    import json

    import pandas as pd

    if as_json:
        typer.echo(
            json.dumps(
                results[0].to_dict() if len(results) == 1 and not many else [r.to_dict() for r in results], indent=2
            )
        )
    elif as_csv:
        if frames:
            all_rows = pd.concat(frames, ignore_index=True) if many else frames[0].drop(columns="file")
            typer.echo(all_rows.to_csv(index=False), nl=False)
    else:
        for r, df in zip(results, frames):
            typer.echo(f"{r.path}  ({r.duration:.1f} s, {len(r.segments)} segments by {r.segmentation})")
            typer.echo(_table(df.drop(columns="file")) if len(df) else "  (no segments)")


OPTIONS = {
    "inputs": typer.Argument(..., help="Video files, directories of videos, or glob patterns ('clips/*.mp4')."),
    "model": typer.Option(..., "--model", help="Bundle written by emorec export (directory or .zip)."),
    "subtitles": typer.Option(
        None,
        "--subtitles",
        help="Subtitles (.srt/.vtt) of the video: one cue = one utterance with its text. "
        "With several videos: a directory of <video stem>.srt files.",
    ),
    "transcript": typer.Option(
        None, "--transcript", help="Transcript .json/.csv with start, end, text[, side] (instead of subtitles)."
    ),
    "window": typer.Option(None, "--window", help="Fixed windows of this many seconds instead of speech detection."),
    "audio": typer.Option(
        None,
        "--audio",
        help="A separate audio file on the video's time line (e.g. an IEMOCAP dialog wav); one video only.",
    ),
    "speaker_side": typer.Option("auto", "--speaker-side", help="auto (from the faces), left, right or full."),
    "no_face_check": typer.Option(
        False, "--no-face-check", help="Use the frame model even on frames where no face is detected."
    ),
    "as_json": typer.Option(False, "--json", help="Print JSON instead of a table."),
    "as_csv": typer.Option(False, "--csv", help="Print CSV instead of a table."),
    "out": typer.Option(
        None, "--out", help="Also write per-video JSON, CSV, timeline PNG and labelled frames here (and summary.csv)."
    ),
    "asr": typer.Option(
        "auto",
        "--asr",
        help="Speech recognition for videos without subtitles: auto (when the bundle reads text), on, off.",
    ),
    "language": typer.Option(None, "--language", help="Language of the speech (e.g. en); detected when not given."),
    "vad": typer.Option("auto", "--vad", help="Speech detection: auto (Silero when installed), silero, energy."),
    "weights": typer.Option(
        None, "--weights", help="Pooling fusion weights per modality, e.g. frame=1,audio=1,text=0.5."
    ),
}


def _run(
    *,
    inputs,
    model,
    subtitles,
    transcript,
    window,
    audio,
    speaker_side,
    no_face_check,
    as_json,
    as_csv,
    out,
    asr,
    language,
    vad,
    weights,
) -> None:
    from emorec.commands.common import fail

    cues = _check_options(as_json, as_csv, subtitles, transcript, speaker_side, window, audio)
    _check_speech_options(asr, vad)
    files, problems = expand_inputs(inputs)
    for p in problems:
        typer.echo(f"error: {p}", err=True)
    if not files:
        fail("no input videos")
    early = _early_speech(files, cues, window, audio, model, asr, language, vad)
    recognizer = _load(model, parse_weights(weights), early)
    many = len(files) > 1
    if many and cues is not None and not cues.is_dir():
        fail(
            "--subtitles/--transcript FILE applies to one video; for several videos give a directory of <video stem>.srt"
        )
    if many and audio is not None:
        fail("--audio applies to one video")
    frames, results, failed = _predict_all(
        recognizer,
        files,
        cues,
        transcript is not None,
        out,
        window=window,
        speaker_side=speaker_side,
        require_face=not no_face_check,
        audio=audio,
        asr=asr,
        language=language,
        vad=vad,
        early=early,
    )
    _print(frames, results, many, as_json, as_csv)
    if out is not None and frames:
        import pandas as pd

        pd.concat(frames, ignore_index=True).to_csv(Path(out) / "summary.csv", index=False)
        typer.echo(f"wrote results for {len(results)} video(s) to {out}", err=True)
    if failed or problems:
        typer.echo(f"{len(failed) + len(problems)} input(s) failed, {len(results)} done", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    o = OPTIONS

    @app.command("predict")
    def predict(
        inputs: list[str] = o["inputs"],
        model: Path = o["model"],
        subtitles: Path | None = o["subtitles"],
        transcript: Path | None = o["transcript"],
        window: float | None = o["window"],
        audio: Path | None = o["audio"],
        speaker_side: str = o["speaker_side"],
        no_face_check: bool = o["no_face_check"],
        as_json: bool = o["as_json"],
        as_csv: bool = o["as_csv"],
        out: Path | None = o["out"],
        asr: str = o["asr"],
        language: str | None = o["language"],
        vad: str = o["vad"],
        weights: str | None = o["weights"],
    ) -> None:
        """Recognise the emotion of each utterance in videos: one row per segment with per-class probabilities
        and the modalities used."""
        options = dict(locals())  # the options above, by name
        from emorec.commands.common import skip_teardown

        skip_teardown()
        _run(**options)
