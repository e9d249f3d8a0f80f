"""Stopping a run whose supervisor is dead: the CLI takes the lock and does the supervisor's job.

Trainers get SIGTERM (they checkpoint and exit 0), SIGKILL after the grace period, and the
journal records the outcome with seqs that continue where the supervisor left off.
"""
import os
import time
from typing import Any, Dict, List, Tuple

from . import procs, runlock, trainer_files
from . import state as run_state
from .journal import Journal
from .knobs import env_float
from .paths import UserError, game_dir


def default_grace_s() -> float:
    """Seconds between SIGTERM and SIGKILL when a stop names none: GANTRY_STOP_GRACE_S, else 30."""
    return env_float("GANTRY_STOP_GRACE_S", 30.0)


def stop_without_supervisor(run_path: str, grace_s: float) -> Dict[str, Any]:
    lock_fd = runlock.acquire(os.path.join(run_path, "supervisor.lock"))
    if lock_fd is None:
        raise UserError("supervisor_appeared", "A supervisor started while stopping; run `stop` again.")
    try:
        st = run_state.load(run_path)
        if st is None:
            raise UserError("unknown_run", "Run state is missing or unreadable in %s." % run_path)
        journal = Journal(os.path.join(run_path, "events.jsonl"), st["run_id"], st.get("last_seq", 0),
                          st.get("unwritten_events"))

        def emit(event_type: str, **fields: Any) -> None:
            try:
                journal.append(event_type, **fields)
            except OSError:
                pass  # kept in state.json's unwritten_events; the next writer of this run writes it

        live: List[Tuple[int, int]] = []  # (pid, start time)
        for name, g in st["games"].items():
            if g["state"] == "running" and procs.is_same_process(g.get("pid"), g.get("pid_start")):
                live.append((g["pid"], g["pid_start"]))
            elif g["state"] in ("queued", "restarting"):
                found = procs.find_trainer(game_dir(run_path, name))  # started, but the pid was never recorded
                if found:
                    live.append((found.pid, found.start))
        for pid, _start in live:
            procs.terminate_group(pid)
        deadline = time.monotonic() + grace_s
        while live and time.monotonic() < deadline:
            live = [p for p in live if procs.is_same_process(*p)]
            time.sleep(0.1)
        for pid, _start in live:
            procs.kill_group(pid)
        # SIGKILL is asynchronous; report "stopped" only once the processes are really gone.
        deadline = time.monotonic() + 5
        while live and time.monotonic() < deadline:
            live = [p for p in live if procs.is_same_process(*p)]
            time.sleep(0.05)
        stopped = []
        for name in st["order"]:
            g = st["games"][name]
            if g["state"] in run_state.FINAL_GAME_STATES:
                continue
            g.update(pid=None, pid_start=None, pending=None, next_start_ts=None)
            if trainer_files.completed(game_dir(run_path, name)) is not None:
                g["state"] = "completed"
                emit("game_completed", game=name, episodes=g.get("episodes", 0))
            else:
                g["state"] = "stopped"
                stopped.append(name)
                emit("game_stopped", game=name)
        st["state"] = run_state.final_run_state(g["state"] for g in st["games"].values())
        emit("run_completed", state=st["state"])
        st["last_seq"] = journal.last_seq
        st["unwritten_events"] = journal.unwritten()
        run_state.save(run_path, st)
        return {"run_id": st["run_id"], "state": st["state"], "stopped": stopped, "supervisor_alive": False}
    finally:
        runlock.release(lock_fd)
