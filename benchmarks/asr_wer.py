"""Word error rate of emorec's speech recognition on RAVDESS speech, end to end through its segmentation.

    python benchmarks/asr_wer.py [--data DIR] [--limit N] [--threads 1] [--language en] [--method auto]
                                 [--model base] [--context 0.5] [--no-rescue] [--errors] [--full-windows]

Every RAVDESS speech clip says "Kids are talking by the door" (statement 01, the 5th field of the file name)
or "Dogs are sitting by the door" (02). Each clip goes through `emorec.speech.transcribe_speech`: speech
segments (Silero VAD, or the energy detector) -> Whisper on each segment -> words, compared with the
statement after normalisation (lower case, no punctuation). --limit takes every k-th clip so that all actors
stay in. Prints per-actor WER, overall WER with substitutions / deletions / insertions, clips without a
speech segment, detected languages, the real-time factor (processing seconds / audio seconds, after the
model load) and the seconds taken.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTEXT_S = 0.5  # emorec.speech.asr.CONTEXT_S
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ravdess_speech"
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}


def clips(data: Path, limit: int | None) -> list[Path]:
    files = sorted(data.glob("Actor_*/*.wav"))
    if limit and limit < len(files):
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    return files


def reference(path: Path) -> str:
    fields = path.stem.split("-")
    if len(fields) != 7 or fields[4] not in STATEMENTS:
        raise ValueError(f"{path}: not a RAVDESS file name (MM-VC-EE-II-SS-RR-AA with statement 01/02)")
    return STATEMENTS[fields[4]]


def run(args) -> int:
    import soundfile as sf

    from emorec.inference.segment import VadConfig
    from emorec.speech.asr import Transcriber, transcribe_speech
    from emorec.speech.wer import WordErrors, normalise_text, word_errors

    files = clips(Path(args.data), args.limit)
    if not files:
        print(f"no RAVDESS wav files under {args.data}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    transcriber = Transcriber(
        args.model,
        language=args.language,
        threads=args.threads,
        context_s=args.context,
        beam_size=args.beam,
        short_windows=args.short_windows,
    )
    load_s = time.perf_counter() - t0
    per_actor: dict[str, WordErrors] = defaultdict(WordErrors)
    languages, methods, no_speech, failed = Counter(), Counter(), 0, 0
    audio_s = work_s = 0.0
    for path in files:
        try:
            ref = reference(path)
            samples, sr = sf.read(path, dtype="float32")
        except (ValueError, RuntimeError, OSError) as e:
            print(f"skipped {path}: {e}", file=sys.stderr)
            failed += 1
            continue
        t = time.perf_counter()
        result = transcribe_speech(samples, sr, transcriber, VadConfig(), method=args.method, rescue=args.rescue)
        work_s += time.perf_counter() - t
        audio_s += len(samples) / sr
        errors = word_errors(ref, result.text)
        per_actor[path.parent.name] += errors
        languages[result.language] += 1
        methods[result.vad_method] += 1
        no_speech += not result.segments
        if args.errors and errors.errors:
            spans = [(s.start, s.end) for s in result.segments]
            print(f"  {path.name}: {' '.join(normalise_text(result.text))!r} segments={spans}")
    total = sum(per_actor.values(), WordErrors())
    for actor in sorted(per_actor):
        e = per_actor[actor]
        print(f"{actor}: WER {100 * e.wer:5.2f} %  ({e.errors} errors / {e.reference_words} words)")
    print(
        f"clips: {sum(languages.values())} ({failed} unreadable), without a speech segment: {no_speech}, "
        f"speech detection: {dict(methods)}, languages: {dict(languages)}"
    )
    print(f"errors: {total.substitutions} substitutions, {total.deletions} deletions, {total.insertions} insertions")
    print(
        f"real-time factor: {work_s / max(audio_s, 1e-9):.3f} ({work_s:.1f} s for {audio_s:.1f} s of audio; "
        f"model load {load_s:.1f} s; threads {args.threads or 'default'}; context {args.context:g} s)"
    )
    print(f"overall WER: {100 * total.wer:.2f} % ({total.errors} / {total.reference_words} words)")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder holding Actor_XX/*.wav")
    p.add_argument("--limit", type=int, default=None, help="use this many clips, spread over all actors")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for Whisper")
    p.add_argument("--language", default=None, help="language code; default: detected per clip")
    p.add_argument("--method", default="auto", choices=("auto", "silero", "energy"), help="speech detection")
    p.add_argument("--model", default="base", help="Whisper model: base, a local folder or a cached name")
    p.add_argument("--context", type=float, default=CONTEXT_S, help="seconds Whisper hears around each segment")
    p.add_argument("--no-rescue", dest="rescue", action="store_false", help="Silero segments only (no energy rescue)")
    p.add_argument("--beam", type=int, default=5, help="beam size (1: greedy decoding)")
    p.add_argument("--errors", action="store_true", help="print each clip with an error")
    p.add_argument(
        "--full-windows", dest="short_windows", action="store_false", help="encode each utterance's padded 30 s"
    )
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
