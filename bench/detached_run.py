"""Bench runs that outlive the command which started them, read back by a later command.

The GPU machine takes commands of at most 10 minutes and keeps its files while it stays warm, so a
long measurement is started in one command (`gantry_remote start` detaches the supervisor, and the
supervisor's trainers train on after it) and read in the next. The bench's root folder holds all of
it: the plan it started, `bench.json` (what was started, when, and what the report needs), the run
under runs/<run_id>/ (the supervisor's state.json, events.jsonl and each game's metrics.jsonl).
"""
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_gpu_share as runs  # noqa: E402  (the supervisor's CLI and the metrics reader)

MANIFEST = "bench.json"


def write_json(path: Path, data: Any) -> None:
    """Atomic: a report that reads it mid-write sees the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def start(root: Path, plan: Dict[str, Any], atari_backend: Optional[str], manifest: Dict[str, Any]) -> Dict[str, Any]:
    """Start `plan` under a real supervisor with its files in `root`; return the manifest written there."""
    root.mkdir(parents=True, exist_ok=True)
    if (root / MANIFEST).exists():
        raise SystemExit("%s already holds a bench run (%s); pick a new --root, or read it with --report %s"
                         % (root, MANIFEST, root))
    plan_path = root / "plan.json"
    plan_path.write_text(json.dumps(plan, indent=1))
    args = ["start", "--plan", str(plan_path)] + (["--atari-backend", atari_backend] if atari_backend else [])
    started_ts = time.time()
    run_id = runs.cli(root, *args)["run_id"]
    manifest = dict(manifest, run_id=run_id, started_ts=started_ts, argv=sys.argv)
    write_json(root / MANIFEST, manifest)
    return manifest


def load(root: Path, bench: str) -> Dict[str, Any]:
    """The manifest of a run that `bench` started (another bench's root is refused by name)."""
    path = root / MANIFEST
    if not path.exists():
        raise SystemExit("%s has no %s: not a bench root (start one first, or check the path)" % (root, MANIFEST))
    manifest = read_json(path)
    if manifest.get("bench") != bench:
        raise SystemExit("%s holds a run of bench_%s.py, not of bench_%s.py: read it with bench/bench_%s.py --report %s" % (
            root, manifest.get("bench"), bench, manifest.get("bench"), root))
    return manifest


def run_path(root: Path, manifest: Dict[str, Any]) -> Path:
    return root / "runs" / manifest["run_id"]


def run_state(root: Path, manifest: Dict[str, Any]) -> Dict[str, Any]:
    return read_json(run_path(root, manifest) / "state.json")


def read_jsonl(path: Path) -> List[Dict[str, Any]]:
    """The whole lines of a JSON-lines file that a live process may be appending to (none if absent)."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # the line its writer is writing right now
    return rows


def events(root: Path, manifest: Dict[str, Any]) -> List[Dict[str, Any]]:
    return read_jsonl(run_path(root, manifest) / "events.jsonl")


def game_metrics(root: Path, manifest: Dict[str, Any], game: str) -> List[Dict[str, Any]]:
    return read_jsonl(run_path(root, manifest) / "games" / game / "metrics.jsonl")


def wait_until_ended(root: Path, manifest: Dict[str, Any], timeout_s: float) -> str:
    """Poll the run's state until it is no longer running, or timeout_s has passed; return the state."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = run_state(root, manifest)["state"]
        if state != "running" or time.monotonic() > deadline:
            return state
        time.sleep(2)
