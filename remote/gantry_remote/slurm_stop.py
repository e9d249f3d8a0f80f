"""Stopping a SLURM run: the one path `stop` and the budget's stop (slurm_budget.py) share.
Running games get pending "stop" (their trainers checkpoint on SLURM's SIGTERM and the next sync
journals game_stopped); games that are not running stop at once; then the array is cancelled."""
from typing import Any, Callable, Dict

from . import slurm_cmd, trainer_files
from . import state as run_state
from .paths import game_dir


def request_exports(st: Dict[str, Any], run_path: str) -> None:
    """Before the cancel: each running trainer exports a model after its SIGTERM checkpoint too."""
    for g in st["games"].values():
        if g["state"] == "running":
            trainer_files.request_export_on_stop(game_dir(run_path, g["game"]))


def mark_stopping(st: Dict[str, Any], emit: Callable[..., Any]) -> None:
    """Under the journal lock."""
    for g in st["games"].values():
        if g["state"] == "running":
            g["pending"] = "stop"
        elif g["state"] not in run_state.FINAL_GAME_STATES:
            g.update(state="stopped", pending=None)
            emit("game_stopped", game=g["game"])


def cancel_array(info: Dict[str, Any]) -> None:
    """scancel the array: SLURM SIGTERMs running trainers (they checkpoint), then SIGKILLs after KillWait."""
    slurm_cmd.output(["scancel", str(info["array_job_id"])])
