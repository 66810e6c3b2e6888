"""A contact sheet of a feature store: per utterance its frame crop and its spectrogram, with labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emorec.preprocess.store import FeatureStore


def pick_rows(n_rows: int, n: int) -> list[int]:
    """Up to n row indices spread evenly over the store."""
    if n_rows <= 0 or n <= 0:
        return []
    return sorted(set(np.linspace(0, n_rows - 1, min(n, n_rows)).round().astype(int).tolist()))


def contact_sheet(store: FeatureStore | str | Path, out: str | Path, n: int = 16, cols: int = 4) -> Path:
    """Write a PNG: for each picked utterance the first frame crop above its spectrogram (log-mel channel)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fs = store if isinstance(store, FeatureStore) else FeatureStore.open(store)
    rows = pick_rows(len(fs), n)
    if not rows:
        raise ValueError(f"{fs.path} has no rows to show")
    has_frames, has_spec = fs.has("frames"), fs.has("spec")
    panels = int(has_frames) + int(has_spec) or 1
    cols = max(1, min(cols, len(rows)))
    grid_rows = -(-len(rows) // cols)
    fig, axes = plt.subplots(
        grid_rows * panels, cols, figsize=(3.2 * cols, 2.9 * grid_rows * panels / 1.6), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    m = fs.manifest
    for k, r in enumerate(rows):
        gr, c = divmod(k, cols)
        row = m.iloc[r]
        title = f"{row['utt_id']}\n{row['label']} | {row['side']}"
        if row["status"] != "ok":
            title += f"\n{row['status']}"
        p = 0
        if has_frames:
            ax = axes[gr * panels + p, c]
            p += 1
            if row["status_frame"] == "ok":
                ax.imshow(np.asarray(fs.array("frames")[r, 0]))
            else:
                ax.text(0.5, 0.5, row["status_frame"], ha="center", va="center", fontsize=8, wrap=True)
            ax.set_title(title, fontsize=7)
        if has_spec:
            ax = axes[gr * panels + p, c]
            if row["status_audio"] == "ok":
                ax.imshow(
                    np.asarray(fs.array("spec")[r, 0], dtype=np.float32), origin="lower", aspect="auto", cmap="magma"
                )
                ax.set_xlabel(f"{row.get('audio_seconds', 0):.2f} s", fontsize=7)
            else:
                ax.text(0.5, 0.5, row["status_audio"], ha="center", va="center", fontsize=8, wrap=True)
            if not has_frames:
                ax.set_title(title, fontsize=7)
    cfg = fs.config
    fig.suptitle(
        f"{fs.path.name}: {len(fs)} utterances, crop={cfg.crop} {cfg.frame_size}px, "
        f"{cfg.spec_recipe} {cfg.spec_size[0]}x{cfg.spec_size[1]}",
        fontsize=9,
    )
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
