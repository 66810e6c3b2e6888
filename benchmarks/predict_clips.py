"""Wall time of `emorec predict` on short clips: one clip, many clips in one process, one process per clip.

    python benchmarks/predict_clips.py --model BUNDLE [--data ../shared/data] [--clips 20] [--asr auto|on|off]

Clips: the first --clips of `ravdess_speech/Actor_01` (audio only) and the three `ravdess_av` clips (video).
Each command runs as its own process, so the times include start-up and bundle loading; peak resident memory is
that process's own. Prints one line per measurement and the per-clip seconds of both ways of running.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scale import run  # benchmarks/scale.py: wall time and peak RSS of one process


def emorec(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of `emorec ARGS` run as its own process."""
    return run([sys.executable, "-m", "emorec.cli", *args])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--asr", default="auto", choices=["auto", "on", "off"])
    args = ap.parse_args(argv)
    audio = sorted((args.data / "ravdess_speech" / "Actor_01").glob("*.wav"))[: args.clips]
    video = sorted((args.data / "ravdess_av").glob("*.mp4"))
    if not audio or not video:
        raise SystemExit(f"{args.data}: no ravdess_speech/Actor_01 wavs or ravdess_av clips")
    common = ["--model", args.model, "--asr", args.asr, "--csv"]
    for clip in (video[0], audio[0]):
        for attempt in (1, 2):
            seconds, rss = emorec(["predict", str(clip), *common])
            print(f"one clip ({clip.name}), run {attempt}: {seconds:.2f} s wall, peak RSS {rss:.0f} MB")
    for name, clips in (("audio", audio), ("video", video)):
        together, rss = emorec(["predict", *map(str, clips), *common])
        apart = sum(emorec(["predict", str(c), *common])[0] for c in clips)
        print(
            f"{len(clips)} {name} clips: one process {together:.1f} s ({together / len(clips):.2f} s per clip, "
            f"peak RSS {rss:.0f} MB); one process per clip {apart:.1f} s ({apart / len(clips):.2f} s per clip)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
