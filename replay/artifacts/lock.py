"""One writer per run: an exclusive OS lock on a hidden file beside what the run writes.

The lock is `flock` on `.<name>.lock` next to the target (the artifact, a manifest). The kernel
releases it when the holder dies, so a `kill -9` never leaves a stale lock: the file may stay,
but the next process locks it at once. A second process exits 2 naming the holder's pid, before
it drafts anything.

A holder removes the file when it is done. A process that opened the file just before that
would then hold a lock on a name nobody else can find, so after locking it checks that the path
still names the file it locked, and starts over when it does not.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from replay.errors import UsageError


class RunLock:
    """An exclusive lock held by this process until `release` (or its death)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, target: Path, *, what: str) -> RunLock:
        """Lock the files of `target`, or refuse at once.

        Args:
            target: the file the holder will write (an artifact, a manifest).
            what: how a refusal names it, e.g. ``run 'run-….json'``.

        Raises:
            UsageError: another live process holds the lock (exit 2), naming its pid.
        """
        path = target.with_name(f".{target.name}.lock")
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise UsageError(
                    f"{what} is being written by another replay (pid {holder}); "
                    "wait for it to finish or stop it, then try again"
                ) from None
            if _names(path, fd):
                break
            os.close(fd)  # the holder removed it as we opened it: lock the new one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        """Remove the lock file and let go; releasing twice is fine."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            if _names(self.path, self._fd):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _names(path: Path, fd: int) -> bool:
    """Whether `path` still names the open file `fd`."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _holder(fd: int) -> str:
    """The pid the holder wrote into the lock file, or `unknown` before it wrote one."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"
