"""Training checkpoints that survive crashes: atomic files, a sha256 manifest, the last two kept.

`ckpt/ckpt-<global_step>.pt` holds everything a resumed run needs (model, optimizer, counters,
environment state, RNG states). `ckpt/manifest.json` lists the good ones, newest last. A
checkpoint only enters the manifest after its file is fully on disk, so the manifest never
points at a partial file; on load the sha256 is checked and an older checkpoint is used when
the newest one is damaged.
"""
import io
import os
import time
from typing import Any, Dict, List, Optional, Tuple

import torch

from . import atomic
from .digest import sha256_bytes

MANIFEST = "manifest.json"
KEEP = 2


def read_manifest(ckpt_dir: str) -> List[Dict[str, Any]]:
    manifest = atomic.read_json(os.path.join(ckpt_dir, MANIFEST), default=None) or {}
    return list(manifest.get("checkpoints", []))


def save_checkpoint(ckpt_dir: str, state: Dict[str, Any], global_step: int, episodes: int) -> Dict[str, Any]:
    """Write `state` as ckpt-<global_step>.pt, add it to the manifest, drop all but the newest KEEP.

    Returns the manifest entry of the new checkpoint.
    """
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    name = "ckpt-%d.pt" % global_step
    atomic.write_bytes(os.path.join(ckpt_dir, name), data)
    entry = {
        "file": name,
        "sha256": sha256_bytes(data),
        "size": len(data),
        "global_step": int(global_step),
        "episodes": int(episodes),
        "ts": time.time(),
    }
    entries = [e for e in read_manifest(ckpt_dir) if e.get("file") != name] + [entry]
    kept, dropped = entries[-KEEP:], entries[:-KEEP]
    atomic.write_json(os.path.join(ckpt_dir, MANIFEST), {"checkpoints": kept})
    # Old files go only after the manifest no longer names them.
    for old in dropped:
        try:
            os.unlink(os.path.join(ckpt_dir, old["file"]))
        except FileNotFoundError:
            pass
    return entry


def load_latest_checkpoint(ckpt_dir: str, log=print) -> Optional[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """The newest checkpoint whose bytes match the manifest's sha256, as (state, entry), or None."""
    for entry in reversed(read_manifest(ckpt_dir)):
        path = os.path.join(ckpt_dir, entry["file"])
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            log("checkpoint %s unreadable (%s); trying an older one" % (entry["file"], exc))
            continue
        if sha256_bytes(data) != entry.get("sha256"):
            log("checkpoint %s does not match its sha256 in the manifest; trying an older one" % entry["file"])
            continue
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        return state, entry
    return None
