"""The sha256 manifests beside checkpoints and models: one entry builder, one reader, one writer.

A manifest is `{<key>: [entry, ...]}`, newest last, written atomically; each entry names a file in
the same folder with its sha256 and size (see PROTOCOL.md).
"""
import os
import time
from typing import Any, Dict, List, Optional

from . import atomic
from .digest import sha256_bytes

MANIFEST = "manifest.json"


def entry(file: str, data: bytes, global_step: int, episodes: int, **extra: Any) -> Dict[str, Any]:
    """The manifest entry of `file`, whose bytes are `data`."""
    out: Dict[str, Any] = {"file": file, "sha256": sha256_bytes(data), "size": len(data),
                           "global_step": int(global_step), "episodes": int(episodes)}
    out.update(extra)
    out["ts"] = time.time()
    return out


def read(folder: str, key: str) -> Optional[List[Dict[str, Any]]]:
    """The entries, [] when there is no manifest, None when it is damaged (not JSON, wrong shape)."""
    try:
        data = atomic.read_json(os.path.join(folder, MANIFEST), default={key: []})
    except (OSError, ValueError):
        return None
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(e, dict) and isinstance(e.get("file"), str) for e in items):
        return None
    return items


def write(folder: str, key: str, entries: List[Dict[str, Any]]) -> None:
    atomic.write_json(os.path.join(folder, MANIFEST), {key: entries})


def remove_files(folder: str, names: List[str]) -> None:
    for name in names:
        try:
            os.unlink(os.path.join(folder, name))
        except FileNotFoundError:
            pass
