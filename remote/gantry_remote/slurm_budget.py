"""A SLURM run's budget (plan "budget", as budget.py validates it), counted and enforced by `sync`.

On SLURM a run's cost is the GPU-hours its jobs used x the instance's price per GPU-hour
(`price_per_hour`); a budget in "hours" counts GPU-hours. A job's time is the span between its
attempt's start and end lines in games/<g>/slurm-attempts.jsonl (written on the node by the job
script), so queue waits never count and every requeued attempt does. An attempt that ended without
an end line (node lost, SIGKILL) counts up to the next attempt's start: an upper bound, so a budget
stops early rather than late. GPUs per job come from the plan's `gres`: gpu:N or gpu:type:N is N; a
job with GPU shards or with no GPU in its gres counts as one GPU (again an upper bound).

The count lives in state.json (each game's `job_s` and `job_open_ts`) and grows only as `sync` applies
attempt lines, each once. `sync` runs when the desktop polls and when each job ends, so the stop at
the limit happens at the first sync after it; besides the desktop's polls and each job's exit, every
job of a run with a budget runs `sync` every few minutes (slurm_batch.py), so the laptop may sleep.
"""
import math
import os
import time
from typing import Any, Callable, Dict, Optional

from . import atomic, budget, slurm_stop
from . import state as run_state
from .paths import UserError

Emit = Callable[..., Any]


def gpus_per_job(scheduler: Dict[str, Any]) -> int:
    gpus = 0
    for item in str(scheduler.get("gres") or "").split(","):
        parts = item.strip().split(":")
        if parts[0] == "gpu":
            gpus += int(parts[-1]) if len(parts) > 1 and parts[-1].isdigit() else 1
    return max(1, gpus)


def _ts(rec: Dict[str, Any]) -> Optional[float]:
    ts = rec.get("ts")
    return float(ts) if isinstance(ts, (int, float)) and not isinstance(ts, bool) and math.isfinite(ts) else None


def count_attempt(g: Dict[str, Any], rec: Dict[str, Any]) -> None:
    """Account one applied attempt line: a start opens the game's job time, any other line closes it."""
    ts = _ts(rec)
    opened = g.get("job_open_ts")
    if opened is not None and ts is not None:
        g["job_s"] = g.get("job_s", 0.0) + max(0.0, ts - opened)
    g["job_open_ts"] = ts if rec.get("event") == "start" else None


def job_seconds(st: Dict[str, Any], now: float) -> float:
    """Every game's finished attempts, plus the running ones up to now."""
    total = 0.0
    for g in st["games"].values():
        total += g.get("job_s", 0.0)
        opened = g.get("job_open_ts")
        if opened is not None and g["state"] not in run_state.FINAL_GAME_STATES:
            total += max(0.0, now - opened)
    return total


def read_plan(run_path: str) -> Dict[str, Any]:
    """The run's budget and scheduler from plan.json (validated when the run started). Read before
    sync journals anything: a plan that no longer validates means no budget, never a failed sync."""
    try:
        raw = atomic.read_json(os.path.join(run_path, "plan.json"), {})
        return {"budget": budget.validate(raw.get("budget")), "scheduler": raw.get("scheduler") or {}}
    except (UserError, ValueError, AttributeError):
        return {"budget": None, "scheduler": {}}


def enforce(run_path: str, st: Dict[str, Any], plan: Dict[str, Any], info: Dict[str, Any], emit: Emit,
            emit_every_s: float, now: Optional[float] = None) -> None:
    """Under the journal lock: journal `budget` (on a status change and every emit_every_s) and, at the
    limit with on_limit "stop", stop the run as `stop` does, each running trainer exporting a model too.
    `plan`: read_plan's answer."""
    plan_budget = plan.get("budget")
    if not plan_budget:
        return
    now = time.time() if now is None else now
    record = st.setdefault("budget", {})
    scheduler = plan.get("scheduler")
    gpu_s = job_seconds(st, now) * gpus_per_job(scheduler if isinstance(scheduler, dict) else {})
    spent = budget.spent(plan_budget, gpu_s)
    games = st["games"].values()
    projected = budget.projected(spent, sum(min(g["episodes"], g["target_episodes"]) for g in games),
                                 sum(g["target_episodes"] for g in games))
    status = budget.status(plan_budget, spent, projected)
    record["gpu_s"] = gpu_s
    if status != record.get("status") or now - record.get("emitted_ts", 0.0) >= emit_every_s:
        record.update(status=status, emitted_ts=now)
        hours = round(gpu_s / 3600.0, 6)
        emit("budget", spent=round(spent, 6), projected=None if projected is None else round(projected, 6),
             limit=plan_budget["limit"], unit=plan_budget["unit"], status=status, on_limit=plan_budget["on_limit"],
             active_hours=hours, gpu_hours=hours)
    unstopped = any(g["state"] not in run_state.FINAL_GAME_STATES and g.get("pending") != "stop" for g in games)
    if status == "reached" and plan_budget["on_limit"] == "stop" and st["state"] == "running" and unstopped:
        slurm_stop.request_exports(st, run_path)
        slurm_stop.mark_stopping(st, emit)
        record["cancel_due"] = True  # sync cancels the array once this state is saved (cancel_if_due)


def cancel_if_due(st: Dict[str, Any], info: Dict[str, Any]) -> bool:
    """After sync saved the stop marks: scancel the array (as `stop` does, marks first). The cancel
    may SIGTERM this very process when a job's own sync runs it, so nothing may be left unsaved by
    then. True when state.json must be saved again (the cancel went through, or is moot)."""
    record = st.get("budget") or {}
    if not record.get("cancel_due"):
        return False
    # Even when every game is already final here (all were queued), their tasks are still in SLURM's queue.
    try:
        slurm_stop.cancel_array(info)
    except UserError as e:  # SLURM did not answer: the next sync tries again
        record["stop_error"] = e.message
        return True
    record.pop("cancel_due", None)
    record.pop("stop_error", None)
    return True
