"""Reading what a trainer writes (metrics.jsonl, completed.json, manifests) without disturbing it."""
import json
import os
from typing import Any, Dict, List, Optional

from .atomic import read_json

_ADOPT_TAIL_BYTES = 64 * 1024


class MetricsTail:
    """Follows metrics.jsonl, yielding only complete lines (the trainer may be mid-write)."""

    def __init__(self, path: str, from_end: bool = False) -> None:
        self.path = path
        self.offset = 0
        self._partial = b""
        self._skip_first = False
        if from_end:
            # After a supervisor restart only the latest values matter: skip most of a long file.
            try:
                size = os.path.getsize(path)
            except OSError:
                size = 0
            if size > _ADOPT_TAIL_BYTES:
                self.offset = size - _ADOPT_TAIL_BYTES
                self._skip_first = True

    def read_new(self) -> List[Dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return []
        if not chunk:
            return []
        self.offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        if self._skip_first and lines:
            lines = lines[1:]
            self._skip_first = False
        out = []
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out


def completed(game_path: str) -> Optional[Dict[str, Any]]:
    try:
        data = read_json(os.path.join(game_path, "completed.json"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def checkpoints(game_path: str) -> List[Dict[str, Any]]:
    try:
        data = read_json(os.path.join(game_path, "ckpt", "manifest.json"), {})
    except (OSError, ValueError):
        return []  # mid-write by a non-atomic writer: read again next tick
    items = data.get("checkpoints") if isinstance(data, dict) else None
    return [c for c in items or [] if isinstance(c, dict) and "file" in c]


def has_checkpoint(game_path: str) -> bool:
    return any(os.path.exists(os.path.join(game_path, "ckpt", c["file"])) for c in checkpoints(game_path))


def models(game_path: str) -> List[Dict[str, Any]]:
    try:
        data = read_json(os.path.join(game_path, "models", "manifest.json"), {})
    except (OSError, ValueError):
        return []
    items = data.get("models") if isinstance(data, dict) else None
    return [m for m in items or [] if isinstance(m, dict) and "file" in m]
