"""Real-time factor of `Recognizer.predict_video` on CPU for a clip with subtitles, broken down by stage.

    python benchmarks/predict.py [--duration 60] [--size 1280x720] [--bundle model.emorec] [--threads 2]
                                 [--faces] [--asr] [--clip real.mp4]

The clip is drawn with the synthetic corpus' faces and voices (two speakers, H.264 + AAC in MP4) and gets an SRT
with one cue per utterance. Without --bundle the models are freshly initialised with the demo configuration's
architectures and input sizes (same compute as the trained demo bundle). The last line is `rtf: N.NNN`
(processing seconds per second of video; lower is faster). `--faces`: the frame model reads the speaker's face
found by BlazeFace (the `faces` input kind: detection, tracking, Face Mesh alignment are timed in `crops`);
`--asr`: no subtitles, so speech is detected (`vad`) and transcribed by Whisper (`asr`); `--clip`: time a given
video instead of the drawn one (with --asr, or windows when it has no subtitles).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CLASSES = ["neu", "hap", "sad", "ang"]
EMOTIONS = ("neu", "hap", "sad", "ang")


def _srt_time(t: float) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def make_clip(
    path, duration: float = 60.0, size=(1280, 720), fps: int = 30, seed: int = 0, srt: bool = True, audio: bool = True
):
    """Write a two-speaker MP4 (H.264 + AAC 16 kHz; audio=False: no audio track) of `duration` seconds and,
    with srt=True, its .srt (one cue per utterance, with text).
    Returns (video path, srt path or None, cues [(start, end, side, emotion, text)])."""
    import av

    from emorec.corpora.synth import face, text, voice

    rng = np.random.default_rng(seed)
    width, height = size
    sr = voice.SAMPLE_RATE
    n_frames = int(round(duration * fps))
    cues, t = [], 0.4
    while True:  # utterances of 1.5-3.5 s separated by 0.3-0.9 s pauses, alternating speakers
        d = float(rng.uniform(1.5, 3.5))
        if t + d > duration - 0.2:
            break
        emo = str(rng.choice(EMOTIONS))
        cues.append((round(t, 3), round(t + d, 3), ("left", "right")[len(cues) % 2], emo, text.make_sentence(emo, rng)))
        t += d + float(rng.uniform(0.3, 0.9))
    looks = [face.FaceLook.draw(g, rng) for g in ("F", "M")]
    voices = [voice.VoiceTraits.draw(g, rng) for g in ("F", "M")]
    n = int(round(duration * sr))
    tracks = [np.zeros(n, np.float32), np.zeros(n, np.float32)]
    segs: list[list] = [[], []]
    for a, b, side, emo, _ in cues:
        k = 0 if side == "left" else 1
        i, j = int(a * sr), min(int(b * sr), n)
        tracks[k][i:j] += voice.synth_speech(j - i, emo, voices[k], rng)
        segs[k].append((a, b, face.expression_params(emo, rng, 0.2)))
    mix = tracks[0] + tracks[1] + rng.normal(0, 0.002, n).astype(np.float32)
    canvas = face.FaceCanvas(width, height, (70, 90, 110), rng, pixel_noise=4.0)
    sides = [
        (
            looks[k],
            face.expression_track(n_frames, segs[k]),
            voice.mouth_envelope(tracks[k], fps, n_frames),
            face.head_motion(n_frames, rng),
        )
        for k in (0, 1)
    ]

    path = Path(path)
    out = av.open(str(path), "w")
    vs = out.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "26"})
    vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
    aus = out.add_stream("aac", rate=sr) if audio else None
    if aus is not None:
        aus.layout = "mono"
    pcm = np.clip(mix, -1, 1)
    face.encode_frames(out, vs, canvas, n_frames, sides)
    step = 1024
    for k in range(0, len(pcm) if aus is not None else 0, step):
        af = av.AudioFrame.from_ndarray(pcm[None, k : k + step].astype(np.float32), format="fltp", layout="mono")
        af.sample_rate, af.pts = sr, k
        for p in aus.encode(af):
            out.mux(p)
    for p in aus.encode() if aus is not None else []:
        out.mux(p)
    out.close()
    srt_path = None
    if srt:
        srt_path = path.with_suffix(".srt")
        srt_path.write_text(
            "\n".join(
                f"{i + 1}\n{_srt_time(a)} --> {_srt_time(b)}\n{txt}\n" for i, (a, b, _, _, txt) in enumerate(cues)
            )
        )
    return path, srt_path, cues


def demo_bundle(out: Path, faces: bool = False) -> tuple[Path, str]:
    """A bundle with the demo configuration's architectures, inputs and sizes, freshly initialised."""
    from emorec.config import load_config
    from emorec.inference import build_untrained_bundle

    cfg = load_config("demo")
    models = cfg.enabled_models()
    pp = {k: v for k, v in cfg.preprocess.items()}
    arch = {m: models[m].arch if m in models else None for m in ("frame", "audio", "text")}
    kwargs = {m: {k: v for k, v in models[m].kwargs.items() if k != "augment"} for m in models}
    kwargs["fusion"] = dict(cfg.fusion.kwargs)
    fusions = {"fusion": [m for m in cfg.fusion.modalities if arch.get(m)]}
    fusions.update({"_".join(e): list(e) for e in cfg.fusion.extra})
    inputs = {"frame": "faces"} if faces else None
    path = build_untrained_bundle(
        out,
        CLASSES,
        pp,
        frame=arch["frame"],
        audio=arch["audio"],
        text=arch["text"],
        fusions=fusions,
        kwargs=kwargs,
        inputs=inputs,
    )
    what = ", ".join(f"{m} {a}" for m, a in arch.items() if a) + f"; preprocess {pp}"
    return path, what


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--size", default="1280x720", help="video size WIDTHxHEIGHT")
    ap.add_argument("--bundle", default=None, help="bundle to time (default: demo architectures, random weights)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs (the best is reported)")
    ap.add_argument("--faces", action="store_true", help="the frame model reads BlazeFace's aligned face")
    ap.add_argument("--asr", action="store_true", help="no subtitles: speech detection and Whisper")
    ap.add_argument("--clip", default=None, help="a real video to time instead of the drawn clip")
    args = ap.parse_args(argv)

    import torch

    from emorec.inference import Recognizer

    torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="emorec-bench-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        if args.clip:
            video, srt = Path(args.clip), None
            print(f"clip: {video}", file=sys.stderr)
        else:
            video, srt, cues = make_clip(tmp / "clip.mp4", args.duration, (width, height))
            print(
                f"clip: {args.duration:.0f} s {width}x{height} 30 fps H.264+AAC, {len(cues)} subtitle cues "
                f"(made in {time.perf_counter() - t:.1f} s)",
                file=sys.stderr,
            )
        if args.asr:
            srt = None
        if args.bundle:
            bundle, what = args.bundle, args.bundle
        else:
            bundle, what = demo_bundle(tmp / "bundle", faces=args.faces)
            what = f"demo configuration{' reading faces' if args.faces else ''}, random weights ({what})"
        t = time.perf_counter()
        rec = Recognizer.load(bundle)
        print(f"bundle: {what}; loaded in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        warm, _, _ = make_clip(tmp / "warm.mp4", 4.0, (320, 180), srt=False)
        rec.predict_video(warm, window=2.0)  # first-call overheads (allocators, lazy imports)
        if args.asr:  # the speech recogniser's load is a one-off cost too
            rec.segmenter.transcriber(None)
        best = None
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            result = rec.predict_video(video, subtitles=srt, asr="on" if args.asr else "off")
            total = time.perf_counter() - t
            if best is None or total < best[0]:
                best = (total, dict(result.timings), result)
    total, timings, result = best
    stages = list(timings)
    print(f"segments: {len(result.segments)}  modalities: {sorted({m for s in result.segments for m in s.modalities})}")
    print(f"{'stage':<14}{'seconds':>9}{'share':>8}")
    for s in stages:
        v = timings.get(s, 0.0)
        print(f"{s:<14}{v:>9.3f}{v / total:>8.1%}")
    other = total - sum(timings.get(s, 0.0) for s in stages)
    print(f"{'other':<14}{other:>9.3f}{other / total:>8.1%}")
    print(f"{'total':<14}{total:>9.3f}  for {result.duration:.1f} s of video, torch threads {args.threads}")
    print(f"rtf: {total / result.duration:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
