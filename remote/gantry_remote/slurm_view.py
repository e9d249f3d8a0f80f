"""SLURM's view of one run's job array: task index → Job (slurm_json's shape), or None when
SLURM could not be asked. squeue knows queued and running tasks; finished ones come from sacct
when the site keeps accounting, else from `scontrol show job` until MinJobAge forgets them."""
import json
import os
from typing import Any, Dict, List, Optional

from . import atomic, slurm_cmd, slurm_json
from .paths import UserError

ARRAY_FILE = os.path.join("slurm", "array.json")


def array_info(run_path: str) -> Optional[Dict[str, Any]]:
    try:
        data = atomic.read_json(os.path.join(run_path, ARRAY_FILE))
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("array_job_id"), int) else None


def parse_sacct(text: str) -> List[Dict[str, Any]]:
    """`sacct --json` (22.05 and 23.02+) in slurm_json's Job shape."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    out: List[Dict[str, Any]] = []
    for raw in (data.get("jobs") if isinstance(data, dict) else None) or []:
        if not isinstance(raw, dict):
            continue
        array = raw.get("array") if isinstance(raw.get("array"), dict) else {}
        state = raw.get("state") if isinstance(raw.get("state"), dict) else {}
        out.append({
            "job_id": slurm_json.number(raw.get("job_id")),
            "array_job_id": slurm_json.number(array.get("job_id")),
            "task": slurm_json.number(array.get("task_id")),
            "state": slurm_json.state_of(state.get("current")),
            "reason": state.get("reason") if isinstance(state.get("reason"), str) else "",
            "node": raw.get("nodes") if isinstance(raw.get("nodes"), str) else "",
            "restarts": slurm_json.number(raw.get("restarts")) or 0,
            "submit_ts": None,
            "start_ts": None,
            "exit_code": slurm_json.exit_code_of(raw.get("exit_code")),
        })
    return [j for j in out if j["job_id"] is not None]


def query(info: Dict[str, Any], tasks: int) -> Optional[Dict[int, Dict[str, Any]]]:
    array_id = info["array_job_id"]
    try:
        found = slurm_json.by_task(slurm_json.parse_squeue(
            slurm_cmd.output(["squeue", "--json", "--name=" + info["job_name"]])), array_id)
    except (UserError, ValueError):
        return None
    if len(found) >= tasks:
        return found
    try:
        if info.get("accounting"):
            older = parse_sacct(slurm_cmd.output(["sacct", "--json", "-j", str(array_id)]))
        else:
            result = slurm_cmd.run(["scontrol", "show", "job", "-o", str(array_id)], check=False)
            older = slurm_json.parse_scontrol(result.stdout) if result.returncode == 0 else []
    except UserError:
        older = []
    for task, job in slurm_json.by_task(older, array_id).items():
        found.setdefault(task, job)
    return found


def task_label(info: Dict[str, Any], task: int) -> str:
    """ARRAY_TASK: what scontrol and scancel accept for one task, whatever its own job id."""
    return "%d_%d" % (info["array_job_id"], task)
