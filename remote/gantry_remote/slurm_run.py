"""The SLURM scheduler: the same operations as the local supervisor (start, status, stop, pause,
resume, set-slots), done with SLURM's own commands on the run's job array. Every command is
short-lived; state lives in the run's files on the shared filesystem (PROTOCOL.md)."""
import os
import re
import time
from typing import Any, Dict

from . import atomic, journal_lock, slurm_cmd, slurm_stop, slurm_sync, slurm_view
from . import state as run_state
from .journal import Journal
from .paths import UserError
from .slurm_batch import job_script

_JOB_ID_RE = re.compile(r"^(\d+)(;[A-Za-z0-9_.-]+)?$")


def _submit(root: str, run_id: str, run_path: str, plan: Dict[str, Any]) -> Dict[str, Any]:
    """Write the job script and sbatch the array (one task per game; a completed game's task exits at once)."""
    script = os.path.join(run_path, "slurm", "job.sh")
    atomic.write_bytes(script, job_script(plan, run_id, run_path, root).encode())
    os.chmod(script, 0o755)
    began = time.monotonic()
    out = slurm_cmd.output(["sbatch", "--parsable", "--chdir=" + run_path, script]).strip()
    submit_s = round(time.monotonic() - began, 3)
    m = _JOB_ID_RE.match(out)
    if not m:
        raise UserError("slurm_error", "sbatch printed %r instead of a job id; see %s." % (out[:200], script))
    return {"array_job_id": int(m.group(1)), "job_name": "gantry-%s" % run_id, "submitted_ts": round(time.time(), 3),
            "submit_s": submit_s, "accounting": slurm_cmd.accounting_enabled()}


def start(root: str, run_id: str, run_path: str, plan: Dict[str, Any]) -> Dict[str, Any]:
    """Submit the array; run_started and game_queued go to the journal."""
    info = _submit(root, run_id, run_path, plan)
    submit_s = info["submit_s"]
    with journal_lock.held(run_path):
        slurm_sync.write_array_info(run_path, info)
        st = run_state.load(run_path)
        journal = Journal(os.path.join(run_path, "events.jsonl"), run_id, seq_floor=st.get("last_seq", 0))
        journal.append("run_started", plan_name=plan["name"], slots=plan["slots"], games=list(st["order"]),
                       resumed=False, scheduler="slurm", array_job_id=info["array_job_id"])
        for name in st["order"]:
            journal.append("game_queued", game=name)
        st["last_seq"] = journal.last_seq
        st["scheduler"] = "slurm"
        run_state.save(run_path, st)
    return {"run_id": run_id, "pid": None, "resumed": False, "scheduler": "slurm", "array_job_id": info["array_job_id"],
            "submit_s": submit_s}


def resubmit(root: str, run_id: str, run_path: str, plan: Dict[str, Any]) -> Dict[str, Any]:
    """`start --run-id` for a stopped or failed SLURM run: a new array for it; every game that has
    not completed is queued again and resumes from its checkpoint (completed ones exit at once)."""
    st = slurm_sync.sync(run_path)
    if st["state"] == "running":
        raise UserError("run_running", "Run %s is still running on SLURM (array %s). Stop it first, or wait for it." % (
            run_id, (slurm_view.array_info(run_path) or {}).get("array_job_id")))
    info = _submit(root, run_id, run_path, plan)

    def change(st: Dict[str, Any], emit: Any) -> Dict[str, Any]:
        slurm_sync.write_array_info(run_path, info)
        again = [name for name in st["order"] if st["games"][name]["state"] != "completed"]
        st["state"] = "running"
        emit("run_started", plan_name=plan["name"], slots=st["slots"], games=list(st["order"]), resumed=True,
             scheduler="slurm", array_job_id=info["array_job_id"])
        for name in again:
            st["games"][name].update(state="queued", pending=None, cause=None, detail=None, pid=None)
            emit("game_queued", game=name)
        return {"run_id": run_id, "pid": None, "resumed": True, "scheduler": "slurm",
                "array_job_id": info["array_job_id"], "submit_s": info["submit_s"], "queued": again}

    return _locked_update(run_path, change)


def status(run_path: str) -> Dict[str, Any]:
    st = slurm_sync.sync(run_path)
    view = run_state.status_view(st, False)
    view["scheduler"] = "slurm"
    view["slurm_reachable"] = st.get("slurm_reachable")
    for g in view["games"]:
        g["slurm"] = st["games"][g["game"]].get("slurm")
    return view


def _info(run_path: str) -> Dict[str, Any]:
    info = slurm_view.array_info(run_path)
    if info is None:
        raise UserError("not_slurm_run", "%s has no slurm/array.json; its submission failed." % run_path)
    return info


def _locked_update(run_path: str, change: Any) -> Dict[str, Any]:
    """Apply `change(state, emit)` to state.json under the journal lock, journaling what it emits."""
    with journal_lock.held(run_path):
        st = run_state.load(run_path)
        journal = Journal(os.path.join(run_path, "events.jsonl"), st["run_id"], seq_floor=st.get("last_seq", 0))
        result = change(st, journal.append)
        st["last_seq"] = journal.last_seq
        run_state.save(run_path, st)
        return result


def _control_result(st: Dict[str, Any], action: str, job_id: str, **fields: Any) -> Dict[str, Any]:
    """The local supervisor's control answer (PROTOCOL.md) plus the job it acted on; SLURM applies
    it at once, so there is no request file and the "supervisor" (SLURM) counts as alive."""
    return dict(fields, run_id=st["run_id"], action=action, job_id=job_id, request="slurm", supervisor_alive=True)


def stop(run_path: str) -> Dict[str, Any]:
    """scancel the array: SLURM SIGTERMs running trainers (they checkpoint), then SIGKILLs after KillWait."""
    info = _info(run_path)

    def change(st: Dict[str, Any], emit: Any) -> Dict[str, Any]:
        slurm_stop.mark_stopping(st, emit)
        return {"run_id": st["run_id"], "state": "stopping", "supervisor_alive": False}

    result = _locked_update(run_path, change)
    slurm_stop.cancel_array(info)
    st = slurm_sync.sync(run_path)
    result["state"] = st["state"] if st["state"] != "running" else "stopping"
    return result


def pause(run_path: str, game: str) -> Dict[str, Any]:
    """Pending: hold the task. Running: requeue-and-hold it (SIGTERM → checkpoint), released by resume."""
    info = _info(run_path)
    slurm_sync.sync(run_path)

    def change(st: Dict[str, Any], emit: Any) -> Dict[str, Any]:
        g = st["games"][game]
        label = slurm_view.task_label(info, st["order"].index(game))
        if g["state"] == "running":
            slurm_cmd.output(["scontrol", "requeuehold", label])
            g["pending"] = "pause"
        elif g["state"] in ("queued", "restarting"):
            slurm_cmd.output(["scontrol", "uhold", label])
            g.update(state="paused", pending=None)
            emit("game_paused", game=game)
        else:
            raise UserError("cannot_pause", "Game %s is %s; only a queued or running game can be paused." % (game, g["state"]))
        return _control_result(st, "pause", label, game=game)

    return _locked_update(run_path, change)


def resume(run_path: str, game: str) -> Dict[str, Any]:
    info = _info(run_path)
    slurm_sync.sync(run_path)

    def change(st: Dict[str, Any], emit: Any) -> Dict[str, Any]:
        g = st["games"][game]
        label = slurm_view.task_label(info, st["order"].index(game))
        if g["state"] != "paused":
            raise UserError("not_paused", "Game %s is %s, not paused%s." % (
                game, g["state"], " (its pause is still under way: the trainer is checkpointing)" if g.get("pending") == "pause" else ""))
        slurm_cmd.output(["scontrol", "release", label])
        g.update(state="queued", pending=None)
        emit("game_resumed", game=game)
        return _control_result(st, "resume", label, game=game)

    return _locked_update(run_path, change)


def set_slots(run_path: str, slots: int) -> Dict[str, Any]:
    info = _info(run_path)
    slurm_cmd.output(["scontrol", "update", "JobId=%d" % info["array_job_id"], "ArrayTaskThrottle=%d" % slots])

    def change(st: Dict[str, Any], emit: Any) -> Dict[str, Any]:
        st["slots"] = slots
        emit("slots_changed", slots=slots)
        return _control_result(st, "set_slots", str(info["array_job_id"]), slots=slots)

    return _locked_update(run_path, change)
