"""emorec's model cache: where assembled model folders live, and how one is built without readers ever
seeing half of it."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

CACHE_ENV = "EMOREC_CACHE_DIR"


def cache_root() -> Path:
    """$EMOREC_CACHE_DIR, else $XDG_CACHE_HOME/emorec, else ~/.cache/emorec."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "emorec"


def join_files(parts: list[Path], out: Path) -> None:
    """`out` = the bytes of `parts`, in order."""
    with open(out, "wb") as dst:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, dst, 1 << 22)


def build_folder(target: Path, fill: Callable[[Path], None], is_complete: Callable[[Path], bool]) -> Path:
    """`target`, unless already complete, built by `fill(tmp)` in a temporary folder beside it that must pass
    `is_complete` (else `fill` should have raised) and is then renamed into place; the temporary folder is
    removed whatever happens."""
    target = Path(target)
    if is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        fill(tmp)
        if not is_complete(tmp):
            raise RuntimeError(f"{target.name}: the assembled folder is incomplete")
        shutil.rmtree(target, ignore_errors=True)  # an incomplete earlier attempt
        try:
            tmp.rename(target)
        except OSError:  # another process finished first
            if not is_complete(target):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
