"""Checkpoint files that survive crashes, whatever they hold (torch for the trainer, JSON for the
fake trainer the tests run).

`ckpt/ckpt-<global_step>.pt`, its sidecar `ckpt-<global_step>.pt.sha256.json` (its manifest entry,
so each checkpoint verifies on its own) and `manifest.json` (the last KEEP entries, newest last).
The manifest is the commit point: a checkpoint enters it only once its file and sidecar are on
disk. At trainer start `recover` removes what a kill mid-checkpoint leaves (temp files,
checkpoints the manifest never listed) and, when the manifest itself is damaged, rebuilds it from
the checkpoints that verify instead of losing the run's progress.
"""
import os
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import atomic, manifests
from .digest import sha256_bytes

KEY = "checkpoints"
KEEP = 2
SIDECAR = ".sha256.json"
_NAME = re.compile(r"ckpt-(\d+)\.pt")

# What a checkpoint's bytes say about themselves: {"global_step": int, "episodes": int}; raises
# when they do not load.
Describe = Callable[[bytes], Dict[str, Any]]
Log = Callable[[str], Any]


def file_name(global_step: int) -> str:
    return "ckpt-%d.pt" % global_step


def save(ckpt_dir: str, data: bytes, global_step: int, episodes: int) -> Dict[str, Any]:
    """Write a checkpoint, its sidecar, then the manifest; drop all but the newest KEEP."""
    name = file_name(global_step)
    atomic.write_bytes(os.path.join(ckpt_dir, name), data)
    entry = manifests.entry(name, data, global_step, episodes)
    atomic.write_json(os.path.join(ckpt_dir, name + SIDECAR), entry)
    listed = manifests.read(ckpt_dir, KEY) or []
    entries = [e for e in listed if e["file"] != name] + [entry]
    kept, dropped = entries[-KEEP:], entries[:-KEEP]
    manifests.write(ckpt_dir, KEY, kept)
    # Old files go only after the manifest no longer names them.
    manifests.remove_files(ckpt_dir, [n for e in dropped for n in (e["file"], e["file"] + SIDECAR)])
    return entry


def _verified(ckpt_dir: str, name: str, describe: Describe, log: Log) -> Optional[Dict[str, Any]]:
    """The entry of a checkpoint file that proves itself good, else None (with the reason logged)."""
    step = int(_NAME.fullmatch(name).group(1))  # type: ignore[union-attr]
    try:
        with open(os.path.join(ckpt_dir, name), "rb") as f:
            data = f.read()
    except OSError as e:
        log("checkpoint %s unreadable (%s); skipped" % (name, e))
        return None
    try:
        sidecar = atomic.read_json(os.path.join(ckpt_dir, name + SIDECAR))
    except (OSError, ValueError):
        sidecar = None
    if isinstance(sidecar, dict) and (sidecar.get("sha256") != sha256_bytes(data) or sidecar.get("size") != len(data)):
        log("checkpoint %s does not match its sha256 sidecar; skipped" % name)
        return None
    try:
        inside = describe(data)
        recorded, episodes = int(inside["global_step"]), int(inside["episodes"])
    except Exception as e:  # noqa: BLE001 - any load failure means "not a usable checkpoint"
        log("checkpoint %s does not load (%s); skipped" % (name, e))
        return None
    if recorded != step:
        log("checkpoint %s records global_step %d, not %d; skipped" % (name, recorded, step))
        return None
    return manifests.entry(name, data, step, episodes)


def recover(ckpt_dir: str, describe: Describe, log: Log = print) -> List[Dict[str, Any]]:
    """Make ckpt/ consistent at trainer start; returns the manifest's entries."""
    try:
        names = os.listdir(ckpt_dir)
    except FileNotFoundError:
        return []
    strays = [n for n in names if n.startswith(".tmp-")]
    if strays:
        log("removing %d temp file(s) left by an interrupted write: %s" % (len(strays), ", ".join(sorted(strays))))
        manifests.remove_files(ckpt_dir, strays)
    files = sorted((n for n in names if _NAME.fullmatch(n)), key=lambda n: int(_NAME.fullmatch(n).group(1)))  # type: ignore[union-attr]
    entries = manifests.read(ckpt_dir, KEY)
    if entries is None:
        log("ckpt/%s is damaged; rebuilding it from the checkpoint files" % manifests.MANIFEST)
        good = [e for e in (_verified(ckpt_dir, n, describe, log) for n in files) if e is not None]
        entries = good[-KEEP:]
        manifests.write(ckpt_dir, KEY, entries)
        log("ckpt/%s rebuilt: %s" % (manifests.MANIFEST, ", ".join(e["file"] for e in entries) or "no usable checkpoint"))
    listed = {e["file"] for e in entries}
    unlisted = [n for n in files if n not in listed]
    unlisted += [n for n in names if n.endswith(SIDECAR) and n[: -len(SIDECAR)] not in listed]
    if unlisted:
        log("removing checkpoint file(s) the manifest does not list: %s" % ", ".join(sorted(unlisted)))
        manifests.remove_files(ckpt_dir, unlisted)
    return entries


def load_latest(ckpt_dir: str, load: Callable[[bytes], Any], log: Log = print) -> Optional[Tuple[Any, Dict[str, Any]]]:
    """The newest listed checkpoint whose bytes match its sha256, as (load(bytes), entry), or None."""
    for entry in reversed(manifests.read(ckpt_dir, KEY) or []):
        try:
            with open(os.path.join(ckpt_dir, entry["file"]), "rb") as f:
                data = f.read()
        except OSError as exc:
            log("checkpoint %s unreadable (%s); trying an older one" % (entry["file"], exc))
            continue
        if sha256_bytes(data) != entry.get("sha256"):
            log("checkpoint %s does not match its sha256 in the manifest; trying an older one" % entry["file"])
            continue
        return load(data), entry
    return None
