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


def ravdess3_overrides(tmp_path: Path) -> list[str]:
    """calm / happy / angry of RAVDESS actors 1-6 (linked under tmp_path/ravdess): train 1-3, validate 4, test 5-6,
    as `ravdess_audio` overrides, with the store under tmp_path/stores."""
    root = tmp_path / "ravdess"
    assert ravdess_subset(root, range(1, 7), {"02", "03", "05"}) == 6 * 24
    return [
        f"corpus.root={root}",
        f"store_dir={tmp_path / 'stores'}",
        "label_set={name: ravdess3, classes: [calm, happy, angry]}",
        "split.test_groups=['05', '06']",
        "split.val_groups=['04']",
    ]
