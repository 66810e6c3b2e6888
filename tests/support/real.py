"""Shipped configs on the real test data, and small RAVDESS subsets (symbolic links to the shared clips)."""

from __future__ import annotations

from pathlib import Path

from emorec.config import ExperimentConfig, load_config
from support.paths import REPO, SHARED_DATA


def shipped_config(name: str, *overrides: str) -> ExperimentConfig:
    """A shipped config with its corpus root moved onto the real data (configs use paths relative to the repo)."""
    cfg = load_config(name, list(overrides))
    root = Path(cfg.corpus.root)
    if not root.is_absolute():
        cfg.corpus.root = str(REPO / root)
    return cfg


def ravdess_subset(root: Path, actors, emotions) -> int:
    """Links to the clips of these actors (numbers) and emotion codes ("02", ...) under root/Actor_NN; their count."""
    n = 0
    for a in actors:
        folder = root / f"Actor_{a:02d}"
        folder.mkdir(parents=True)
        for wav in sorted((SHARED_DATA / "ravdess_speech" / folder.name).glob("*.wav")):
            if wav.stem.split("-")[2] in emotions:
                (folder / wav.name).symlink_to(wav)
                n += 1
    return n
