"""`models`: every exported model, probe and checkpoint a run has, for download and backup.

Manifests (written by the trainer) are the source of sha256/step/return; a file the manifest
does not list is still reported, with its sha256 computed, so nothing on disk is invisible.
"""
import os
import re
from typing import Any, Dict, List, Optional

from . import trainer_files
from .digest import sha256_file
from .paths import game_dir, list_run_ids, run_dir

_STEP_RE = re.compile(r"-(\d+)\.(?:onnx|pt)(?:\.probe\.json|\.episode\.gz)?$")
# A model's companions: (manifest key of the file name, of its sha256, record kind).
_COMPANIONS = (("probe", "probe_sha256", "probe"), ("episode", "episode_sha256", "recording"))


def _record(root: str, run_id: str, game: str, path: str, kind: str,
            entry: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    try:
        st = os.stat(path)
    except OSError:
        return None  # listed but gone (pruned old checkpoint)
    name = os.path.basename(path)
    step = entry.get("global_step")
    if step is None:
        m = _STEP_RE.search(name)
        step = int(m.group(1)) if m else None
    sha = entry.get("sha256")
    if not sha or entry.get("size", st.st_size) != st.st_size:
        sha = sha256_file(path)
    return {
        "run_id": run_id,
        "game": game,
        "kind": kind,
        "file": name,
        "path": os.path.relpath(path, root),
        "abs_path": os.path.abspath(path),
        "size": st.st_size,
        "sha256": sha,
        "step": step,
        "episodes": entry.get("episodes"),
        "created_ts": entry.get("ts", round(st.st_mtime, 3)),
        "mean_return": entry.get("mean_return"),
    }


def _game_records(root: str, run_id: str, game: str, path: str) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    listed = set()
    models_dir = os.path.join(path, "models")
    for m in trainer_files.models(path):
        listed.add(m["file"])
        rec = _record(root, run_id, game, os.path.join(models_dir, m["file"]), "model", m)
        if rec:
            out.append(rec)
        for name_key, sha_key, kind in _COMPANIONS:
            if not isinstance(m.get(name_key), str):
                continue
            listed.add(m[name_key])
            # The manifest's size/sha256 describe the model, not its companion.
            companion = {k: v for k, v in m.items() if k not in ("size", "sha256")}
            companion["sha256"] = m.get(sha_key)
            rec = _record(root, run_id, game, os.path.join(models_dir, m[name_key]), kind, companion)
            if rec:
                out.append(rec)
    ckpt_dir = os.path.join(path, "ckpt")
    for c in trainer_files.checkpoints(path):
        listed.add(c["file"])
        rec = _record(root, run_id, game, os.path.join(ckpt_dir, c["file"]), "checkpoint", c)
        if rec:
            out.append(rec)
    for directory, suffixes in ((models_dir, (".onnx", ".probe.json", ".episode.gz")), (ckpt_dir, (".pt",))):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if name in listed or name.startswith(".") or not name.endswith(suffixes):
                continue
            kind = ("checkpoint" if name.endswith(".pt") else "probe" if name.endswith(".probe.json")
                    else "recording" if name.endswith(".episode.gz") else "model")
            rec = _record(root, run_id, game, os.path.join(directory, name), kind, {})
            if rec:
                out.append(rec)
    return out


def list_models(root: str, run_id: Optional[str] = None) -> List[Dict[str, Any]]:
    run_ids = [run_id] if run_id else sorted(list_run_ids(root), reverse=True)
    records: List[Dict[str, Any]] = []
    for rid in run_ids:
        games_root = os.path.join(run_dir(root, rid), "games")
        try:
            games = sorted(os.listdir(games_root))
        except OSError:
            continue
        for game in games:
            records.extend(_game_records(root, rid, game, game_dir(run_dir(root, rid), game)))
    return records
