"""Reading what a trainer writes (metrics.jsonl, completed.json, manifests) without disturbing it."""
import math
import os
import re
from typing import Any, Dict, List, Optional

from .atomic import read_json, write_json
from .jsonl_tail import JsonLinesTail

_ADOPT_TAIL_BYTES = 64 * 1024
_CKPT_FILE = re.compile(r"ckpt-\d+\.pt")


class MetricsTail(JsonLinesTail):
    """Follows metrics.jsonl. `from_end`: after a supervisor restart only the latest values
    matter, so a long file is read from its last 64 KiB."""

    def __init__(self, path: str, from_end: bool = False) -> None:
        offset = 0
        if from_end:
            try:
                offset = max(0, os.path.getsize(path) - _ADOPT_TAIL_BYTES)
            except OSError:
                offset = 0
        super().__init__(path, offset=offset, skip_first=offset > 0)


def finite_or_none(value: Any) -> Any:
    """JSON from a trainer may hold NaN or Infinity (Python writes them); the journal must not:
    they are not JSON, and the desktop would reject the whole event."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def progress_fields(line: Dict[str, Any], default_ts: Optional[float]) -> Dict[str, Any]:
    """What a metrics line says about a game's progress, in state.json's field names."""
    fields = {key: finite_or_none(line[key]) for key in ("episodes", "global_step", "mean_return") if key in line}
    fields["last_progress_ts"] = finite_or_none(line.get("ts", default_ts))
    return fields


def non_finite(line: Dict[str, Any]) -> Optional[str]:
    """The first NaN/inf a metrics line reports in its return or losses ("losses.value=nan"), or None:
    the trainer diverged (restart rule "nan")."""
    losses = line.get("losses")
    values = [("mean_return", line.get("mean_return"))]
    if isinstance(losses, dict):
        values += [("losses." + str(k), v) for k, v in losses.items()]
    for name, value in values:
        if isinstance(value, float) and not math.isfinite(value):
            return "%s=%s" % (name, value)
    return None


def latest_metrics(game_path: str) -> Optional[Dict[str, Any]]:
    """The newest complete metrics.jsonl line, or None."""
    lines = MetricsTail(os.path.join(game_path, "metrics.jsonl"), from_end=True).read_new()
    return lines[-1] if lines else None


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
    """Any checkpoint file at all, listed or not: with a damaged manifest the trainer rebuilds it
    from the files (ckpt_store.recover), so --resume must not be dropped for want of a manifest."""
    try:
        names = os.listdir(os.path.join(game_path, "ckpt"))
    except OSError:
        return False
    return any(_CKPT_FILE.fullmatch(n) for n in names)


def models(game_path: str) -> List[Dict[str, Any]]:
    try:
        data = read_json(os.path.join(game_path, "models", "manifest.json"), {})
    except (OSError, ValueError):
        return []
    items = data.get("models") if isinstance(data, dict) else None
    return [m for m in items or [] if isinstance(m, dict) and "file" in m]


# Written by the supervisor before a SIGTERM that should also leave an exported model (a stop at the
# budget); the trainer exports after its last checkpoint and removes it.
EXPORT_ON_STOP = "export-on-stop.json"


def request_export_on_stop(game_path: str) -> None:
    try:
        write_json(os.path.join(game_path, EXPORT_ON_STOP), {"export": True})
    except OSError:
        pass  # the checkpoint still happens; the last periodic export stays the newest model
