"""What SLURM says about a run's jobs, in one shape whatever SLURM's version.

`squeue --json` changed shape in 23.02: `job_state` became a list (["RUNNING"]) and numbers
became objects ({"set": true, "infinite": false, "number": 5}); 22.05 prints plain values. Both
parse to the same `Job` dicts here. `scontrol show job -o` (one `Key=Value …` line per job) is the
fallback: it also knows jobs that squeue has dropped, until MinJobAge passes. Everything SLURM
prints is untrusted input: malformed entries are skipped, never trusted.
"""
import json
import re
from typing import Any, Dict, Iterable, List, Optional

# SLURM's own job states that mean the job is done with (for now).
FINISHED = ("COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
            "DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT")
_TASK_RANGE = re.compile(r"^(\d+)(?:-(\d+))?(?::(\d+))?$")


def number(value: Any) -> Optional[int]:
    """A plain int (22.05) or {"set", "infinite", "number"} (23.02+); None when unset or infinite."""
    if isinstance(value, dict):
        if not value.get("set", True) or value.get("infinite"):
            return None
        value = value.get("number")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    return None


def state_of(value: Any) -> str:
    """"RUNNING" (22.05) or ["RUNNING", "REQUEUED"…] (23.02+) → the base state, upper case."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.upper() if isinstance(value, str) else ""


def exit_code_of(value: Any) -> Optional[int]:
    if isinstance(value, dict):  # 23.02+: {"status": […], "return_code": n|{…}, "signal": {…}}
        return number(value.get("return_code"))
    return number(value)


def task_ids(spec: str) -> List[int]:
    """"1-3,7%2" → [1, 2, 3, 7]: the array tasks that a pending array record still stands for."""
    spec = spec.split("%", 1)[0]
    out: List[int] = []
    for part in spec.split(","):
        m = _TASK_RANGE.match(part.strip())
        if not m:
            continue
        first, last, step = int(m.group(1)), int(m.group(2) or m.group(1)), int(m.group(3) or 1)
        if last - first > 100000 or step < 1:
            continue
        out.extend(range(first, last + 1, step))
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _job(raw: Dict[str, Any], task: Optional[int]) -> Dict[str, Any]:
    submit, start = number(raw.get("submit_time")), number(raw.get("start_time"))
    return {
        "job_id": number(raw.get("job_id")),
        "array_job_id": number(raw.get("array_job_id")),
        "task": task,
        "state": state_of(raw.get("job_state")),
        "reason": _text(raw.get("state_reason")),
        "node": _text(raw.get("nodes")) or _text(raw.get("batch_host")),
        "restarts": number(raw.get("restart_cnt")) or 0,
        "submit_ts": submit or None,
        "start_ts": start or None,
        "exit_code": exit_code_of(raw.get("exit_code")),
    }


def parse_squeue(text: str) -> List[Dict[str, Any]]:
    """One Job per array task (a pending array record is split into its tasks)."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ValueError("squeue --json printed something that is not JSON: %r" % text[:200]) from e
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list):
        raise ValueError("squeue --json has no \"jobs\" list: %r" % text[:200])
    out: List[Dict[str, Any]] = []
    for raw in jobs:
        if not isinstance(raw, dict) or number(raw.get("job_id")) is None:
            continue
        pending_tasks = _text(raw.get("array_task_string"))
        if pending_tasks:
            out.extend(_job(raw, t) for t in task_ids(pending_tasks))
        else:
            out.append(_job(raw, number(raw.get("array_task_id"))))
    return out


def parse_scontrol(text: str) -> List[Dict[str, Any]]:
    """`scontrol show job -o` lines in the same shape (fields we do not use are dropped)."""
    out: List[Dict[str, Any]] = []
    for line in text.splitlines():
        fields = dict(_pairs(line))
        job_id = _int(fields.get("JobId"))
        if job_id is None:
            continue
        node = fields.get("BatchHost") or fields.get("NodeList") or ""
        task_field = fields.get("ArrayTaskId", "")
        exit_code = fields.get("ExitCode", "").split(":", 1)[0]
        base = {
            "job_id": job_id,
            "array_job_id": _int(fields.get("ArrayJobId")),
            "state": fields.get("JobState", "").upper(),
            "reason": fields.get("Reason", ""),
            "node": "" if node == "(null)" else node,
            "restarts": _int(fields.get("Restarts")) or 0,
            "submit_ts": None,
            "start_ts": None,
            "exit_code": _int(exit_code),
        }
        if _int(task_field) is not None:
            out.append(dict(base, task=_int(task_field)))
        else:
            out.extend(dict(base, task=t) for t in task_ids(task_field))
    return out


def _pairs(line: str) -> Iterable[tuple]:
    # Values never contain spaces except a few free-text fields we do not read (Command=, Comment=);
    # splitting on spaces that precede a Key= keeps those whole anyway.
    for token in re.split(r" (?=[A-Za-z/:]+=)", line.strip()):
        key, sep, value = token.partition("=")
        if sep:
            yield key, value


def _int(value: Optional[str]) -> Optional[int]:
    return int(value) if value is not None and value.isdigit() else None


def by_task(jobs: List[Dict[str, Any]], array_job_id: int) -> Dict[int, Dict[str, Any]]:
    """The jobs of one array, keyed by task index (a task's newest record wins)."""
    out: Dict[int, Dict[str, Any]] = {}
    for job in jobs:
        if job["array_job_id"] == array_job_id and job["task"] is not None:
            out[job["task"]] = job
    return out
