"""The run's append-only event journal (`events.jsonl`), protocol v1.

Writer invariants: seq strictly increases from 1 and is never reused, even across supervisor
restarts or a crash mid-write. On open we drop a torn (newline-less) last line, take the last
complete line's seq, and never go below a floor (state.json's last_seq) in case the tail of the
file was lost. An event that cannot be written (disk full) keeps its seq and is retried, so
readers never see a gap.
"""
import json
import os
import time
from typing import Any, Dict, List

from . import PROTOCOL_VERSION
from .jsonl_tail import JsonLinesTail

_TAIL_SCAN_BYTES = 64 * 1024


def _last_complete_seq(path: str) -> int:
    """seq of the last parseable complete line; truncates a torn trailing fragment."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0
        start = max(0, size - _TAIL_SCAN_BYTES)
        os.lseek(fd, start, os.SEEK_SET)
        tail = b""
        while len(tail) < size - start:
            chunk = os.read(fd, size - start - len(tail))
            if not chunk:
                break
            tail += chunk
        if not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n")
            os.ftruncate(fd, start + cut + 1 if cut >= 0 else start)
            tail = tail[: cut + 1] if cut >= 0 else b""
        for line in reversed(tail.split(b"\n")):
            try:
                return int(json.loads(line)["seq"])
            except (ValueError, KeyError, TypeError):
                continue
        return 0
    finally:
        os.close(fd)


class Journal:
    def __init__(self, path: str, run_id: str, seq_floor: int = 0) -> None:
        self.path = path
        self.run_id = run_id
        self.last_seq = max(_last_complete_seq(path), int(seq_floor or 0))
        self._pending: List[bytes] = []

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def append(self, event_type: str, **fields: Any) -> Dict[str, Any]:
        self.last_seq += 1
        event: Dict[str, Any] = {
            "v": PROTOCOL_VERSION,
            "type": event_type,
            "ts": round(time.time(), 3),
            "run": self.run_id,
            "seq": self.last_seq,
        }
        event.update(fields)
        self._pending.append((json.dumps(event, separators=(",", ":")) + "\n").encode())
        self.flush()
        return event

    def flush(self) -> bool:
        """Write pending lines in order; on failure leave the file as it was and keep them."""
        if not self._pending:
            return True
        data = b"".join(self._pending)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size_before = os.fstat(fd).st_size
            try:
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
            except OSError:
                # A partial line would corrupt the journal for every reader: roll it back.
                try:
                    os.ftruncate(fd, size_before)
                except OSError:
                    pass
                raise
        finally:
            os.close(fd)
        self._pending = []
        return True


class JournalReader(JsonLinesTail):
    """Incremental journal reader: complete lines only, and only well-formed events (with a seq)."""

    def read_new(self) -> List[Dict[str, Any]]:
        return [event for event in super().read_new() if isinstance(event.get("seq"), int)]


def read_all(path: str) -> List[Dict[str, Any]]:
    return JournalReader(path).read_new()
