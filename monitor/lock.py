"""A lock on the state directory, so two polls never run at once (cron `once` beside another
`once`, or beside the daemon). The kernel drops it when the process dies: no stale locks."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from monitor.errors import EnvironmentProblem, LockHeld


def unusable_directory(directory: Path, exc: OSError) -> str:
    """One sentence on a state directory regmon cannot use, and what to do about it."""
    why = {FileExistsError: "a file is in the way", NotADirectoryError: "a file is in the way",
           PermissionError: "permission denied"}.get(type(exc), exc.strerror or str(exc))
    return (f"cannot use the state directory {directory}: {why}; point --state-dir (or "
            "REGMON_STATE_DIR) at a directory this user may write")


class StateLock:
    """Exclusive, non-blocking lock on `<state dir>/regmon.lock`."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "regmon.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise LockHeld naming the holder's pid."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise EnvironmentProblem(unusable_directory(self.path.parent, exc)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockHeld(f"another regmon (pid {holder}) is already polling with state in "
                           f"{self.path.parent}; this run did nothing") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
