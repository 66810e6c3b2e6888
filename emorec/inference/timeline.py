"""Emotion timeline picture: class probabilities over time, with a coloured band per segment."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]


def class_colors(classes) -> dict[str, str]:
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(classes)}


def timeline_png(segments, classes, duration: float | None = None, title: str = "", width: float = 10.0) -> bytes:
    """PNG bytes of the timeline. `segments` are objects with start, end, label and probs ({class: p})."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    classes = list(classes)
    colors = class_colors(classes)
    ends = [s.end for s in segments]
    duration = duration or (max(ends) if ends else 1.0)
    fig, (ax, band) = plt.subplots(
        2, 1, figsize=(width, 3.6), sharex=True, gridspec_kw={"height_ratios": [4, 1], "hspace": 0.08}
    )
    for c in classes:
        xs, ys = [], []
        for s in segments:  # a step per segment, a gap (NaN) between segments that do not touch
            if xs and s.start > xs[-1] + 1e-6:
                xs.append(xs[-1])
                ys.append(np.nan)
            xs += [s.start, s.end]
            ys += [s.probs.get(c, 0.0)] * 2
        ax.plot(xs, ys, color=colors[c], lw=1.8, label=c)
    for s in segments:
        ax.axvspan(s.start, s.end, color=colors.get(s.label, "#cccccc"), alpha=0.08, lw=0)
        band.axvspan(s.start, s.end, color=colors.get(s.label, "#cccccc"), alpha=0.9, lw=0)
        if s.end - s.start > duration / 40:
            band.text(
                (s.start + s.end) / 2, 0.5, s.label, ha="center", va="center", fontsize=8, color="white", clip_on=True
            )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, duration)
    ax.set_ylabel("probability")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    band.set_yticks([])
    band.set_ylabel("label", rotation=0, ha="right", va="center")
    band.set_xlabel("time (s)")
    if not segments:
        ax.text(duration / 2, 0.5, "no segments", ha="center", va="center", color="#666666")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def save_timeline(path, segments, classes, duration: float | None = None, title: str = "") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(timeline_png(segments, classes, duration, title))
    return path
