"""state.json: the supervisor's view of a run, written atomically, read by the CLI."""
import os
import time
from typing import Any, Dict, Iterable, List, Optional, TypedDict

from . import atomic, runlock
from .paths import UserError, list_run_ids, run_dir
from .plan import Plan, PlanGame, queue_order

RUN_STATES = ("running", "completed", "stopped", "failed")


class _GameNotes(TypedDict, total=False):
    """Kept between ticks but not always present."""
    _last_metrics: Dict[str, Any]   # sps and episodes_per_hour of the newest metrics line
    unrecorded: Dict[str, Any]      # a trainer adopted before its game_started reached the journal
    gpu: Optional[int]              # the GPU its trainer is pinned to (CUDA_VISIBLE_DEVICES); None without GPUs
    slot: int                       # the slot its running trainer holds, which picks its cores (cpus.py)
    cpus: str                       # those cores as a CPU list, "0-7"
    overrides: Dict[str, Any]       # trainer_args restart rules changed (num_envs, learning_rate), over the plan's
    pause_why: Dict[str, Any]       # cause/detail/rule for the game_paused of a pause a restart rule asked for


class GameRecord(_GameNotes):
    """One game in state.json."""
    game: str
    backend: str
    state: str                      # queued | running | restarting | paused | completed | failed | stopped
    episodes: int
    target_episodes: int
    restarts: int
    attempt: int
    pid: Optional[int]
    pid_start: Optional[int]        # the pid's start time, so a reused pid is never mistaken for it
    started_ts: Optional[float]
    last_progress_ts: Optional[float]
    mean_return: Optional[float]
    global_step: int
    next_start_ts: Optional[float]
    pending: Optional[str]          # "pause" | "stop" | "requeue" | "frozen" | "nan" while a SIGTERM/SIGKILL is in flight
    signal_ts: Optional[float]
    cause: Optional[str]
    detail: Optional[str]
    last_ckpt_step: Optional[int]
    models_seen: List[str]


class _RunNotes(TypedDict, total=False):
    gpus: List[int]                 # the GPUs trainers are placed on, fixed when the run first starts
    budget: Dict[str, Any]          # budget.Meter's record: active_s, accounted_ts, status


class RunState(_RunNotes):
    """state.json."""
    v: int
    run_id: str
    plan_name: str
    state: str                      # one of RUN_STATES
    slots: int
    started_ts: float
    updated_ts: float
    supervisor_pid: Optional[int]
    last_seq: int                   # the last journal seq written and fsynced
    unwritten_events: List[Dict[str, Any]]  # events the disk refused, oldest first; the next writer writes them
    order: List[str]
    games: Dict[str, GameRecord]
ACTIVE_GAME_STATES = ("running", "restarting")
FINAL_GAME_STATES = ("completed", "failed", "stopped")


def final_run_state(game_states: Iterable[str]) -> str:
    """A finished run's state from its games' final states: any stopped game makes it stopped,
    else any failed one failed, else completed."""
    states = set(game_states)
    if "stopped" in states:
        return "stopped"
    if "failed" in states:
        return "failed"
    return "completed"


def new_game(game: PlanGame) -> GameRecord:
    return {
        "game": game["game"],
        "backend": game["backend"],
        "state": "queued",
        "episodes": 0,
        "target_episodes": game["target_episodes"],
        "restarts": 0,
        "attempt": 0,
        "pid": None,
        "pid_start": None,
        "started_ts": None,
        "last_progress_ts": None,
        "mean_return": None,
        "global_step": 0,
        "next_start_ts": None,
        "pending": None,
        "signal_ts": None,
        "cause": None,
        "detail": None,
        "last_ckpt_step": None,
        "models_seen": [],
    }


def new_state(run_id: str, plan: Plan) -> RunState:
    by_name = {g["game"]: g for g in plan["games"]}
    order = queue_order(plan)
    return {
        "v": 1,
        "run_id": run_id,
        "plan_name": plan["name"],
        "state": "running",
        "slots": plan["slots"],
        "started_ts": round(time.time(), 3),
        "updated_ts": round(time.time(), 3),
        "supervisor_pid": None,
        "last_seq": 0,
        "unwritten_events": [],
        "order": order,
        "games": {name: new_game(by_name[name]) for name in order},
    }


def path_of(run_path: str) -> str:
    return os.path.join(run_path, "state.json")


def load(run_path: str) -> Optional[RunState]:
    try:
        data = atomic.read_json(path_of(run_path))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def save(run_path: str, state: RunState) -> None:
    state["updated_ts"] = round(time.time(), 3)
    atomic.write_json(path_of(run_path), state)


def supervisor_alive(run_path: str) -> bool:
    return runlock.is_held(os.path.join(run_path, "supervisor.lock"))


def newest_run_id(root: str) -> Optional[str]:
    best = None
    for run_id in list_run_ids(root):
        st = load(run_dir(root, run_id)) or {}
        key = (st.get("started_ts") or 0, run_id)
        if best is None or key > best[0]:
            best = (key, run_id)
    return best[1] if best else None


def resolve_run(root: str, run_id: Optional[str]) -> str:
    """The run a command is about: the given id (validated by the caller) or the newest."""
    if run_id is None:
        run_id = newest_run_id(root)
        if run_id is None:
            raise UserError("no_runs", "No runs under %s yet. Start one with `start --plan PLAN.json`." % root)
    if load(run_dir(root, run_id)) is None:
        raise UserError("unknown_run", "Run %s does not exist under %s. List runs with `runs --json`." % (run_id, root))
    return run_id


def game_view(g: GameRecord) -> Dict[str, Any]:
    return {
        "game": g["game"],
        "backend": g.get("backend"),
        "state": g["state"],
        "episodes": g.get("episodes", 0),
        "target_episodes": g.get("target_episodes"),
        "restarts": g.get("restarts", 0),
        "attempt": g.get("attempt", 0),
        "pid": g.get("pid") if g["state"] == "running" else None,
        "gpu": g.get("gpu"),
        "cpus": g.get("cpus") if g["state"] == "running" else None,
        "overrides": g.get("overrides") or {},
        "last_progress_ts": g.get("last_progress_ts"),
        "mean_return": g.get("mean_return"),
        "global_step": g.get("global_step", 0),
        "cause": g.get("cause"),
        "detail": g.get("detail"),
        "next_start_ts": g.get("next_start_ts") if g["state"] == "restarting" else None,
    }


def status_view(state: RunState, alive: bool) -> Dict[str, Any]:
    games: List[Dict[str, Any]] = [game_view(state["games"][name]) for name in state["order"]]
    return {
        "run_id": state["run_id"],
        "state": state["state"],
        "supervisor_alive": alive,
        "supervisor_pid": state.get("supervisor_pid") if alive else None,
        "plan_name": state.get("plan_name"),
        "slots": state.get("slots"),
        "started_ts": state.get("started_ts"),
        "updated_ts": state.get("updated_ts"),
        "last_seq": state.get("last_seq", 0),
        "games": games,
    }
