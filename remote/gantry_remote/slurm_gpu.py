"""GPU gauges for SLURM runs.

Each job samples its own GPUs (nvidia-smi, every gpu_sample_s) into its game folder: a small
background process that the job script starts next to the trainer and stops on exit, and that
also ends when the script is gone. It rewrites `games/<g>/gpu.json` atomically each time.

`sync` reads the games' files (written on compute nodes: untrusted, so validated and bounded),
keeps the fresh ones, merges them per (node, GPU) (games sharing a GPU by shards report it twice)
and journals the same `gpu` event a single-host run has, each GPU labelled with its node and the
games on it; `gpu_unavailable` once when the jobs found no nvidia-smi at all.
"""
import json
import math
import os
import re
import stat
import time
from typing import Any, Dict, List, Optional, Tuple

from . import atomic
from .gpu import GpuUnavailable, sample

SAMPLE_FILE = "gpu.json"
_MAX_FILE_BYTES = 64 * 1024
_MAX_GPUS_PER_FILE = 16
_NODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_NUMBERS = ("util", "mem_used", "mem_total", "temp", "power")
_MAX_NUMBER = 1e9
# A sample older than this many intervals belongs to a job that ended (or a node that went away).
_FRESH_INTERVALS = 3
_MIN_FRESH_S = 30.0


def _allocated(gpus: List[Dict[str, Any]], job_gpus: Optional[str]) -> List[Dict[str, Any]]:
    """The GPUs SLURM gave this job (SLURM_JOB_GPUS: "0,2"), when nvidia-smi also shows others.
    Where cgroups hide the other GPUs and renumber, nothing matches: keep what nvidia-smi shows."""
    wanted = {int(i) for i in (job_gpus or "").split(",") if i.strip().isdigit()}
    mine = [g for g in gpus if g.get("index") in wanted]
    return mine or gpus


def sample_loop(out: str, node: str, job: str, interval: float) -> int:
    """The job's sampler: rewrite `out` every `interval` seconds until the job script is gone."""
    parent = os.getppid()
    while True:
        record: Dict[str, Any] = {"v": 1, "ts": round(time.time(), 3), "node": node, "job": job}
        try:
            record["gpus"] = _allocated(sample(), os.environ.get("SLURM_JOB_GPUS"))
        except GpuUnavailable as e:
            record["unavailable"] = str(e)
        atomic.write_json(out, record)
        if "unavailable" in record:
            return 0  # nothing to sample on this node; the file says why
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline:
            if os.getppid() != parent:
                return 0  # the job script ended without stopping us (killed outright)
            time.sleep(min(1.0, interval))


# ---- sync side: untrusted files → gauges ----------------------------------------------------

def _number(value: Any, limit: float = _MAX_NUMBER) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0 or value > limit:
        return None
    return value


def _text(value: Any, limit: int) -> Optional[str]:
    if not isinstance(value, str):
        return None
    return "".join(c for c in value if c.isprintable())[:limit]


def _gpu(raw: Any, node: str) -> Optional[Dict[str, Any]]:
    if not isinstance(raw, dict):
        return None
    index, name = raw.get("index"), _text(raw.get("name"), 128)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 63 or name is None:
        return None
    out: Dict[str, Any] = {"index": index, "name": name, "node": node}
    out.update({k: _number(raw.get(k)) for k in _NUMBERS})
    return out


def read_sample(path: str) -> Optional[Dict[str, Any]]:
    """One game's gpu.json, validated: {"ts", "node", "gpus": [...]} or {"ts", "node",
    "unavailable"}; None when missing, too big, or not in that shape."""
    try:
        info = os.lstat(path)  # a plain file only: never follow a link a node put there
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_FILE_BYTES:
            return None
        with open(path, "rb") as f:
            raw = json.loads(f.read(_MAX_FILE_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    ts, node = _number(raw.get("ts"), limit=1e11), raw.get("node")
    if ts is None or not isinstance(node, str) or not _NODE.match(node):
        return None
    if "unavailable" in raw:
        reason = _text(raw.get("unavailable"), 300)
        return {"ts": ts, "node": node, "unavailable": reason} if reason else None
    gpus = raw.get("gpus")
    if not isinstance(gpus, list):
        return None
    checked = [g for g in (_gpu(item, node) for item in gpus[:_MAX_GPUS_PER_FILE]) if g is not None]
    return {"ts": ts, "node": node, "gpus": checked} if checked else None


def gauges(samples: Dict[str, Dict[str, Any]], now: float, interval: float) -> Tuple[List[Dict[str, Any]], float]:
    """Fresh samples by game → one entry per (node, GPU), newest reading wins, with the games on
    it; and the newest sample time among them (0 when none is fresh)."""
    fresh_s = max(_MIN_FRESH_S, _FRESH_INTERVALS * interval)
    merged: Dict[Tuple[str, int], Dict[str, Any]] = {}
    newest = 0.0
    for game, s in sorted(samples.items()):
        if "gpus" not in s or now - s["ts"] > fresh_s:
            continue
        newest = max(newest, s["ts"])
        for g in s["gpus"]:
            key = (g["node"], g["index"])
            have = merged.get(key)
            games = (have["games"] if have else []) + [game]
            if have is None or s["ts"] > have["_ts"]:
                merged[key] = dict(g, _ts=s["ts"], games=games)
            else:
                have["games"] = games
    out = [{k: v for k, v in g.items() if k != "_ts"} for _, g in sorted(merged.items())]
    return out, newest


def plan_interval(run_path: str) -> float:
    """The plan's gpu_sample_s (validated by plan.py when the run started; bounded again here)."""
    value = (atomic.read_json(os.path.join(run_path, "plan.json"), {}) or {}).get("gpu_sample_s")
    return min(3600.0, max(1.0, float(value))) if _number(value) is not None else 10.0


def sync_gpus(run_path: str, st: Dict[str, Any], interval: float, emit: Any) -> None:
    """Journal a `gpu` event when a job wrote a newer sample (at most one per interval), and one
    `gpu_unavailable` for a run whose jobs found no GPU to sample."""
    samples: Dict[str, Dict[str, Any]] = {}
    for name in st["order"]:
        s = read_sample(os.path.join(run_path, "games", name, SAMPLE_FILE))
        if s is not None:
            samples[name] = s
    now = time.time()
    gpus, newest = gauges(samples, now, interval)
    last = st.get("gpu_sample_ts") or 0
    if gpus and newest > last and now - (st.get("gpu_emitted_ts") or 0) >= interval:
        st["gpu_sample_ts"], st["gpu_emitted_ts"] = newest, round(now, 3)
        emit("gpu", gpus=gpus)
        return
    missing = [s for s in samples.values() if "unavailable" in s]
    if missing and not last and not st.get("gpu_unavailable_sent"):
        st["gpu_unavailable_sent"] = True
        emit("gpu_unavailable", reason="%s (on %s)" % (missing[0]["unavailable"], missing[0]["node"]))
