"""Crash-safe file writes: a reader always sees the old content or the new, never a mix.

temp file in the same directory -> write -> fsync -> rename over the target -> fsync the directory.
On any error the temp file is removed and the previous file is left untouched.
"""
import json
import os
import tempfile
from typing import Any


def fsync_dir(directory: str) -> None:
    """Make a rename, link or unlink in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: str, data: bytes, prefix: str = ".tmp-") -> None:
    """`prefix`: the temp file's name start, so a writer can find its own leftovers after a kill."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(directory)


def write_json(path: str, obj: Any) -> None:
    write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: str, default: Any = None) -> Any:
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except FileNotFoundError:
        return default
