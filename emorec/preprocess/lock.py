"""One writer per feature store, and workers that do not outlive the process that started them.

The writer holds an exclusive lock (`fcntl.flock`) on `<store>/.writer.lock`, a file holding its pid. The kernel
drops the lock when the process ends, however it ends, so a lock file left by a killed writer is simply taken
over. Where `fcntl` is missing the file is created exclusively and a lock of a pid that no longer runs is stale.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from emorec.preprocess.store import StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux/macOS
    fcntl = None

LOCK_FILE = ".writer.lock"
PARENT_POLL_S = 0.5  # how often a worker checks that its parent still runs
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class StoreLocked(StoreError):
    """Another process is writing the store."""


@dataclass
class StoreLock:
    path: Path
    stale_owner: int | None = None  # pid of a writer that died holding the store, whose lock was taken over


def _pid_in(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _refused(store: Path, path: Path, owner: int | None) -> StoreLocked:
    who = f"process {owner}" if owner else "another process"
    return StoreLocked(
        f"{store} is being written by {who} (lock {path}); wait for it to finish or stop it, "
        "then run again (finished work is kept)"
    )


def _flock(store: Path, path: Path) -> int:
    """An fd of the lock file on disk, locked; StoreLocked when another process holds it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _pid_in(fd)
            os.close(fd)
            raise _refused(store, path, owner) from None
        try:  # its last owner may have removed the file between our open and our lock
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _exclusive_create(store: Path, path: Path) -> int:  # pragma: no cover - without fcntl
    while True:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            fd = os.open(path, os.O_RDONLY)
            owner = _pid_in(fd)
            os.close(fd)
            if owner and _running(owner):
                raise _refused(store, path, owner) from None
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def store_lock(store: str | os.PathLike):
    """Hold `store` for writing in this process (creating the folder); StoreLocked naming the owner's pid
    when another process writes it. The lock file is removed on exit."""
    store = Path(store)
    created = not store.exists()
    store.mkdir(parents=True, exist_ok=True)
    path = store / LOCK_FILE
    fd = _flock(store, path) if fcntl is not None else _exclusive_create(store, path)
    previous = _pid_in(fd)
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()}\n".encode())
    os.fsync(fd)
    try:
        yield StoreLock(path, previous if previous and previous != os.getpid() else None)
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
        if created:  # a run that failed before writing anything leaves no empty store behind
            with contextlib.suppress(OSError):
                store.rmdir()


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process end when `parent_pid` is no longer its parent, e.g. after kill -9 of the
    parent: the kernel sends SIGKILL on Linux (prctl PR_SET_PDEATHSIG), and a watchdog thread checks
    `os.getppid()` every PARENT_POLL_S seconds on every system."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no usable libc: the watchdog alone
            pass
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="emorec-parent-watch", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)
