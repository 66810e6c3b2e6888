"""Preprocessing speed: the emorec pipeline vs a straightforward per-utterance implementation, same corpus.

    python benchmarks/preprocess.py [--dialogs 3] [--utterances-per-dialog N] [--corpus DIR] [--workers 1]

Generates (or reuses) a synthetic IEMOCAP corpus at the real frame size (720x480, 30 fps), then runs, each in
a fresh process: (1) emorec's `preprocess_utterances` (one decoding pass per dialog video, windows read from the
dialog wav), (2) a straightforward version that per utterance opens the video with OpenCV, seeks with
CAP_PROP_POS_FRAMES, loads the whole dialog wav with librosa and slices it. Both use the same crop, spectrogram
and tokenizer code and the dialog wav as audio source, and their outputs are compared. With --workers 1 the
pipeline decodes each video in a second thread beside the audio work, so it also prints the ratio of CPU
times (work done) next to the ratio of wall times. Prints utterances/s, peak resident memory, and as its last
line `speedup: N.NNx` (wall time).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

import numpy as np

FRAME_SIZE = (720, 480)


def make_corpus(out: Path, dialogs: int, per_dialog: int | None, seed: int, keyframe_interval: int = 12) -> Path:
    from emorec.corpora.synth.iemocap import SynthConfig, generate_iemocap

    root = out / "IEMOCAP_full_release"
    if (root / "synth_truth.csv").is_file():
        print(f"corpus: reusing {root}", flush=True)
        return root
    print(f"corpus: generating {dialogs} dialogs at {FRAME_SIZE[0]}x{FRAME_SIZE[1]} in {out} ...", flush=True)
    t0 = time.perf_counter()
    cfg = SynthConfig(
        seed=seed,
        sessions=1,
        dialogs_per_session=dialogs,
        utterances_per_dialog=per_dialog,
        frame_size=FRAME_SIZE,
        keyframe_interval=keyframe_interval,
    )
    root = generate_iemocap(out, cfg, progress=False)
    print(f"corpus: written in {time.perf_counter() - t0:.0f} s", flush=True)
    return root


def bench_config(out: Path):
    from emorec.preprocess.config import PreprocessConfig

    return PreprocessConfig(
        corpus="iemocap",
        root="",
        out=str(out),
        audio_source="dialog",
        crop="speaker",
        frame_size=224,
        frames_per_utterance=1,
    )


def warm_up(cfg) -> None:
    """Import and first-call costs (librosa, numba, PyAV, OpenCV, torch, tokenizer) paid before the clock starts."""
    import av  # noqa: F401
    import cv2  # noqa: F401
    import librosa  # noqa: F401

    from emorec.inputs.melspec import to_float16
    from emorec.inputs.tokens import load_tokenizer

    to_float16(cfg.input("spec").maker(np.zeros(cfg.sample_rate, np.float32))[0])
    load_tokenizer(cfg.tokenizer)


def one_thread_per_library() -> None:
    """The straightforward variant gets the same thread settings as the pipeline (BLAS, OpenCV: 1 thread)."""
    import cv2
    from threadpoolctl import threadpool_limits

    cv2.setNumThreads(1)
    threadpool_limits(1)


def run_pipeline(root: str, out: str, workers: int, repeat: int, queue) -> None:
    from emorec.corpora.corpora import read_corpus
    from emorec.preprocess.run import preprocess_utterances

    utts = read_corpus("iemocap", root).utterances
    cfg = bench_config(Path(out))
    warm_up(cfg)
    base = _rss_mb()
    times, cpu = [], []
    for r in range(repeat):  # a fresh store each time
        t0, c0 = time.perf_counter(), _cpu_seconds()
        fs = preprocess_utterances(utts, cfg, workers=workers, progress=False, store_dir=Path(out) / f"pipeline{r}")
        times.append(time.perf_counter() - t0)
        cpu.append(_cpu_seconds() - c0)
    queue.put(
        {"times": times, "cpu": cpu, "n": len(utts), "rss_mb": _peak_rss_mb(), "base_mb": base, "store": str(fs.path)}
    )


def run_straightforward(root: str, out: str, repeat: int, queue) -> None:
    """Per utterance: OpenCV open + seek + read, librosa.load of the whole dialog wav + slice."""
    from emorec.corpora.corpora import read_corpus
    from emorec.inputs.tokens import load_tokenizer

    utts = read_corpus("iemocap", root).utterances
    cfg = bench_config(Path(out))
    warm_up(cfg)
    one_thread_per_library()
    tok = load_tokenizer(cfg.tokenizer)
    spec = cfg.input("spec").maker
    base = _rss_mb()
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), _cpu_seconds()
        frames, specs, ids = straightforward(utts, cfg, tok, spec)
        times.append(time.perf_counter() - t0)
        cpu.append(_cpu_seconds() - c0)
    np.save(Path(out) / "naive_frames.npy", np.stack(frames))
    np.save(Path(out) / "naive_spec.npy", np.stack(specs))
    np.save(Path(out) / "naive_ids.npy", np.stack(ids))
    queue.put({"times": times, "cpu": cpu, "n": len(utts), "rss_mb": _peak_rss_mb(), "base_mb": base})


def straightforward(utts, cfg, tok, spec):
    import cv2
    import librosa

    from emorec.inputs.melspec import to_float16
    from emorec.inputs.tokens import clean_text
    from emorec.media.crops import crop_frame
    from emorec.media.video import frame_window, pick_frames

    frames, specs, ids = [], [], []
    for u in utts:
        cap = cv2.VideoCapture(u.video_path)
        fps = cap.get(cv2.CAP_PROP_FPS)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        a, b = frame_window(u.start, u.end, fps, n)
        (mid,) = pick_frames(a, b, 1, n - 1)
        cap.set(cv2.CAP_PROP_POS_FRAMES, mid)
        ok, bgr = cap.read()
        cap.release()
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if ok else np.zeros((FRAME_SIZE[1], FRAME_SIZE[0], 3), np.uint8)
        frames.append(crop_frame(rgb, cfg.crop, u.side, cfg.frame_size)[0])
        y, sr = librosa.load(u.audio_path, sr=cfg.sample_rate)
        img, _ = spec(y[int(round(u.start * sr)) : int(round(u.end * sr))])
        specs.append(to_float16(img))
        token_ids, _ = tok.batch([clean_text(u.text, cfg.tags)], cfg.max_length)
        ids.append(token_ids[0])
    return frames, specs, ids


def _cpu_seconds() -> float:
    """CPU time of this process and its children (worker processes), all threads."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _in_child(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    while True:  # a child that dies (an exception) must not leave this process waiting for ever
        try:
            result = q.get(timeout=5)
            break
        except Empty:
            if not p.is_alive():
                raise SystemExit(f"{target.__name__} failed (exit code {p.exitcode}); its error is above") from None
    p.join()
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dialogs", type=int, default=3)
    ap.add_argument(
        "--utterances-per-dialog", type=int, default=None, help="default: drawn like the real corpus (~60-75)"
    )
    ap.add_argument("--corpus", type=Path, default=None, help="folder for the synthetic corpus (reused when present)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--keyframe-interval",
        type=int,
        default=12,
        help="frames between keyframes of the generated AVIs (12: FFmpeg's MPEG-4 default; DivX up to 300)",
    )
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each variant; the best time counts (shared machines are noisy)"
    )
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="emorec-bench-") as tmp:
        corpus_dir = args.corpus or Path(tmp) / "corpus"
        root = make_corpus(corpus_dir, args.dialogs, args.utterances_per_dialog, args.seed, args.keyframe_interval)
        out = Path(tmp) / "out"
        out.mkdir()
        naive = _in_child(run_straightforward, str(root), str(out), args.repeat)
        ours = _in_child(run_pipeline, str(root), str(out), args.workers, args.repeat)
        for res in (naive, ours):
            best = int(np.argmin(res["times"]))
            res["seconds"], res["cpu_seconds"] = res["times"][best], res["cpu"][best]

        from emorec.preprocess.store import FeatureStore

        fs = FeatureStore.open(ours["store"])
        same_frames = float(
            np.mean(
                np.abs(np.asarray(fs.array("frames"))[:, 0].astype(int) - np.load(out / "naive_frames.npy").astype(int))
            )
        )
        same_spec = float(
            np.max(
                np.abs(np.asarray(fs.array("spec"), np.float32) - np.load(out / "naive_spec.npy").astype(np.float32))
            )
        )
        same_ids = bool(np.array_equal(np.asarray(fs.array("input_ids")), np.load(out / "naive_ids.npy")))
        n = ours["n"]
        dialogs = fs.manifest["dialog"].nunique()
        print(
            f"utterances: {n} in {dialogs} dialogs ({fs.manifest['end'].max() / 60:.1f} min longest), video {FRAME_SIZE[0]}x{FRAME_SIZE[1]}, crop 224x224, "
            f"spec {fs.config.spec_size}, workers={args.workers}"
        )
        for name, res, note in (
            ("straightforward", naive, ""),
            ("emorec pipeline", ours, " (includes writing the store)"),
        ):
            runs = " ".join(f"{t:.2f}" for t in res["times"])
            print(
                f"{name}: best {res['seconds']:6.2f} s  {n / res['seconds']:7.1f} utt/s  (runs: {runs} s, CPU {res['cpu_seconds']:.2f} s)  "
                f"peak RSS {res['rss_mb']:.0f} MB (after imports {res['base_mb']:.0f} MB){note}"
            )
        print(
            f"outputs: frames mean |diff| {same_frames:.3f} (0-255), spectrograms max |diff| {same_spec:.4f}, tokens identical {same_ids}"
        )
        print(
            f"CPU time ratio: {naive['cpu_seconds'] / ours['cpu_seconds']:.2f}x (the pipeline decodes video in a second thread)"
        )
        print(f"speedup: {naive['seconds'] / ours['seconds']:.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
