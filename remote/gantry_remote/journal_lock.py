"""The journal's writer lock for runs without a supervisor (SLURM): `sync` runs on the login node
and in every job's EXIT trap, on several nodes at once, so each appends only while holding an
exclusive POSIX lock (fcntl.lockf) on runs/<id>/journal.lock. POSIX locks, unlike flock, are
honoured across NFS and Lustre clients; the kernel (or the lock manager) drops one whose holder
dies, so a killed sync never leaves the run locked.
"""
import contextlib
import fcntl
import os
import time
from typing import Iterator

from .paths import UserError

LOCK_FILE = "journal.lock"


@contextlib.contextmanager
def held(run_path: str, wait_s: float = 60.0) -> Iterator[None]:
    fd = os.open(os.path.join(run_path, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise UserError("journal_busy", "Another gantry_remote sync has held %s for %.0f s. "
                                    "Check for a hung process on the login node or a compute node." % (
                                        os.path.join(run_path, LOCK_FILE), wait_s)) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing drops the lock
