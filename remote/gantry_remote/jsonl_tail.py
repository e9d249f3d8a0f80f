"""Following a JSON-lines file another process appends to (the journal, a trainer's metrics)."""
import json
from typing import Any, Dict, List


class JsonLinesTail:
    """Yields the JSON objects of complete lines only: the writer may be mid-line, and a torn
    last line stays buffered until its newline arrives. `skip_first` drops the first line read,
    for a tail that starts at an arbitrary offset (likely mid-line)."""

    def __init__(self, path: str, offset: int = 0, skip_first: bool = False) -> None:
        self.path = path
        self.offset = offset
        self._partial = b""
        self._skip_first = skip_first

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
        objects = []
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                objects.append(obj)
        return objects
