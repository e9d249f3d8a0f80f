"""One supervisor per run: an exclusive flock on runs/<id>/supervisor.lock.

The kernel drops the lock when the holder dies (even by SIGKILL), so "is the lock held?" is
the reliable answer to "is a supervisor alive?", unlike a pid file.
"""
import fcntl
import os
import time
from typing import Optional


def acquire(path: str, wait_s: float = 0.0) -> Optional[int]:
    """Return an fd holding the lock, or None if another process holds it after `wait_s`.

    A short wait lets a supervisor ride out `is_held` probes from status/runs, which hold the
    lock for microseconds.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(0.05)


def release(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_held(path: str) -> bool:
    if not os.path.exists(path):
        return False
    fd = acquire(path)
    if fd is None:
        return True
    release(fd)
    return False


def owner(path: str) -> str:
    """The pid the lock holder wrote into the lock file ("" when none): only the holder writes it."""
    try:
        with open(path, "rb") as f:
            return f.read(32).decode("ascii", "replace").strip()
    except OSError:
        return ""


def holder_pid(path: str, wait_s: float = 5.0) -> str:
    """owner() of a held lock; a holder that has just taken it writes its pid a moment later."""
    deadline = time.monotonic() + wait_s
    while True:
        pid = owner(path)
        if pid or time.monotonic() >= deadline or not is_held(path):
            return pid or "unknown"
        time.sleep(0.02)
