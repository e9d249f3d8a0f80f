"""Requests from the CLI to a running supervisor: one small JSON file each, written atomically.

Files are named `<time_ns>-<rand>.json` so the supervisor applies them in the order they were
made; it deletes each once applied. A request written while no supervisor runs is applied when
the run is resumed.
"""
import json
import os
import secrets
import time
from typing import Any, Dict, List, Tuple

from . import atomic
from .paths import control_dir


def submit(run_path: str, request: Dict[str, Any]) -> str:
    name = "%020d-%s.json" % (time.time_ns(), secrets.token_hex(3))
    body = dict(request)
    body["ts"] = round(time.time(), 3)
    atomic.write_json(os.path.join(control_dir(run_path), name), body)
    return name


def pending(run_path: str) -> List[Tuple[str, Dict[str, Any]]]:
    directory = control_dir(run_path)
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json") and not n.startswith("."))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:
                out.append((path, json.load(f)))
        except (OSError, ValueError):
            out.append((path, {}))  # unreadable request: the caller drops it
    return out


def done(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
