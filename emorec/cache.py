"""emorec's model cache: where assembled model folders live, and how one is built without readers ever
seeing half of it."""

from __future__ import annotations

import bisect
import io
import itertools
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


class JoinedFile(io.RawIOBase):
    """The bytes of `parts`, in order, read and sought as one file without being copied into one (a zip split
    over several packages is opened where it lies)."""

    def __init__(self, parts: list[Path]):
        super().__init__()
        self._files: list = []
        try:
            for part in parts:
                self._files.append(open(part, "rb"))  # noqa: SIM115 (open as long as the reader)
        except OSError:
            self.close()
            raise
        self._sizes = [os.fstat(f.fileno()).st_size for f in self._files]
        self._starts = list(itertools.accumulate([0, *self._sizes[:-1]]))
        self._size, self._pos = sum(self._sizes), 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer) -> int:
        """Fills `buffer` across parts (short only at the end, as a plain file's read)."""
        view, done = memoryview(buffer).cast("B"), 0
        while done < len(view) and self._pos < self._size:
            k = bisect.bisect_right(self._starts, self._pos) - 1  # the last part starting at or before pos
            inside = self._pos - self._starts[k]
            self._files[k].seek(inside)
            n = self._files[k].readinto(view[done : done + self._sizes[k] - inside])
            if not n:  # the part shrank since it was opened
                raise OSError(f"{self._files[k].name}: ended early")
            done, self._pos = done + n, self._pos + n
        return done

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()


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
