"""The scheduler seam: which implementation runs a run's games, chosen per run by its plan's
`scheduler` block (PROTOCOL.md). "local" (the default) is the supervisor process on this host;
"slurm" is a job array on a SLURM cluster (slurm_run.py). The CLI asks here, then calls the
chosen one's start, status, stop, pause, resume or set-slots."""
import os
from typing import Any, Dict

from . import atomic


def kind_of_plan(plan: Dict[str, Any]) -> str:
    return (plan.get("scheduler") or {}).get("kind", "local")


def kind_of_run(run_path: str) -> str:
    try:
        plan = atomic.read_json(os.path.join(run_path, "plan.json"), {})
    except ValueError:
        return "local"
    return kind_of_plan(plan) if isinstance(plan, dict) else "local"
