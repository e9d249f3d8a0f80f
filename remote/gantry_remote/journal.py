"""The run's append-only event journal (`events.jsonl`), protocol v1.

Writer invariants: the file holds seq 1..n with no gap and no repeat, even across supervisor
restarts, a crash mid-write or a full disk. An event gets its seq only when it is written: one
that cannot be written yet (ENOSPC, EIO) waits in memory, in order, and is retried; the caller
stores both `last_seq` (the last seq written and fsynced) and `unwritten()` in state.json, so a
supervisor that dies before the disk recovers leaves them to the next one, which writes them with
the next free seqs. On open we drop a torn (newline-less) last line and take the last complete
line's seq, never going below the stored last_seq.
"""
import json
import os
import time
from typing import Any, Dict, List, Optional

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
    def __init__(self, path: str, run_id: str, seq_floor: int = 0, unwritten: Optional[List[Dict[str, Any]]] = None) -> None:
        self.path = path
        self.run_id = run_id
        on_disk = _last_complete_seq(path)
        floor = int(seq_floor or 0)
        self.last_seq = max(on_disk, floor)
        # Events written after the state that listed them as unwritten was saved are already on
        # disk: they were the oldest pending ones, so drop that many from the front.
        carried = [e for e in unwritten or [] if isinstance(e, dict) and isinstance(e.get("type"), str)]
        self._pending: List[Dict[str, Any]] = carried[max(0, on_disk - floor):]

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def unwritten(self) -> List[Dict[str, Any]]:
        """Events waiting for the disk, oldest first, without seq (for state.json)."""
        return [dict(e) for e in self._pending]

    def append(self, event_type: str, **fields: Any) -> None:
        """Queue an event and try to write everything queued; OSError when the disk refuses (the
        event stays queued and the next append or flush retries it)."""
        event: Dict[str, Any] = {"v": PROTOCOL_VERSION, "type": event_type, "ts": round(time.time(), 3), "run": self.run_id}
        event.update(fields)
        self._pending.append(event)
        self.flush()

    def flush(self) -> None:
        """Write queued events with the next seqs and fsync; on failure leave the file as it was."""
        if not self._pending:
            return
        lines = []
        for offset, event in enumerate(self._pending, start=1):
            line = dict(event, seq=self.last_seq + offset)
            lines.append(json.dumps(line, separators=(",", ":")) + "\n")
        data = "".join(lines).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size_before = os.fstat(fd).st_size
            try:
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
                # Only what is on the disk counts as written: state.json records last_seq.
                os.fsync(fd)
            except OSError:
                # A partial line would corrupt the journal for every reader: roll it back.
                try:
                    os.ftruncate(fd, size_before)
                except OSError:
                    pass
                raise
        finally:
            os.close(fd)
        self.last_seq += len(self._pending)
        self._pending = []


class JournalReader(JsonLinesTail):
    """Incremental journal reader: complete lines only, and only well-formed events (with a seq)."""

    def read_new(self) -> List[Dict[str, Any]]:
        return [event for event in super().read_new() if isinstance(event.get("seq"), int)]


def read_all(path: str) -> List[Dict[str, Any]]:
    return JournalReader(path).read_new()
