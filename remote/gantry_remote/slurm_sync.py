"""`sync --run ID` for a SLURM run: turn what the jobs wrote and what SLURM says into journal
events, then exit. Run by the desktop whenever it polls and by every job's EXIT trap; nothing
long-lived stays on the login node.

Under the journal lock (journal_lock.py) it reads state.json, each game's new
slurm-attempts.jsonl lines (from the offset it stopped at), the trainers' files and one
`squeue --json`, appends the same events a supervisor would (PROTOCOL.md, "SLURM states → events")
and saves state.json with the last seq, so seq stays 1..n whichever node syncs.
"""
import json
import os
import time
from typing import Any, Callable, Dict, List, Optional

from . import atomic, failure, journal_lock, slurm_budget, slurm_cmd, slurm_gpu, slurm_json, slurm_view, trainer_files
from . import state as run_state
from .journal import Journal
from .knobs import env_float
from .paths import UserError, game_dir
from .slurm_batch import ATTEMPTS_FILE

# SLURM states in which a task that was terminated has been put back in the queue.
_REQUEUED = ("PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING", "RUNNING", "RESIZING")
_ATTEMPTS_READ_MAX = 1 << 20

Emit = Callable[..., Any]


def _progress_interval_s() -> float:
    return env_float("GANTRY_PROGRESS_INTERVAL_S", 30.0)


def sync(run_path: str) -> Dict[str, Any]:
    info = slurm_view.array_info(run_path)
    if info is None:
        raise UserError("not_slurm_run", "%s has no slurm/array.json: it is not a SLURM run, or its submission "
                        "failed (see slurm/submit.log)." % run_path)
    with journal_lock.held(run_path):
        st = run_state.load(run_path)
        if st is None:
            raise UserError("unknown_run", "%s has no readable state.json." % run_path)
        plan = slurm_budget.read_plan(run_path)
        jobs = slurm_view.query(info, len(st["order"])) if st["state"] == "running" else None
        journal = Journal(os.path.join(run_path, "events.jsonl"), st["run_id"], seq_floor=st.get("last_seq", 0))
        emit = journal.append
        if st["state"] == "running":
            for index, name in enumerate(st["order"]):
                g = st["games"][name]
                job = jobs.get(index) if jobs is not None else None
                _sync_game(run_path, st, g, job, jobs is not None, emit)
                _update_card(g, _card(info, index, job, g), emit)
            st["slurm_reachable"] = jobs is not None
            slurm_gpu.sync_gpus(run_path, st, slurm_gpu.plan_interval(run_path), emit)
            slurm_budget.enforce(run_path, st, plan, info, emit, 2 * _progress_interval_s())
            _finish_if_done(st, emit)
        st["last_seq"] = journal.last_seq
        run_state.save(run_path, st)
        if slurm_budget.cancel_if_due(st, info):
            run_state.save(run_path, st)
        return st


_CARD_CHANGE = ("state", "reason", "node", "restarts")


def _update_card(g: Dict[str, Any], card: Dict[str, Any], emit: Emit) -> None:
    """Journal a slurm_job event when the job's state, pending reason, node or requeue count
    changes (not for the queue wait ticking), so cards follow SLURM through the usual journal."""
    before = g.get("slurm") or {}
    g["slurm"] = card
    if card.get("state") and any(card.get(k) != before.get(k) for k in _CARD_CHANGE):
        emit("slurm_job", game=g["game"], job_id=card["job_id"], state=card["state"], reason=card.get("reason", ""),
             node=card.get("node", ""), restarts=card.get("restarts", 0), queue_wait_s=card.get("queue_wait_s"))


def _card(info: Dict[str, Any], index: int, job: Optional[Dict[str, Any]], g: Dict[str, Any]) -> Dict[str, Any]:
    """What a game's card shows about its SLURM job (job id, state, reason, node, queue wait)."""
    card = dict(g.get("slurm") or {}, job_id=slurm_view.task_label(info, index))
    final = g["state"] in run_state.FINAL_GAME_STATES
    if job is not None and not (final and job["state"] not in slurm_json.FINISHED):
        card.update(state=job["state"], reason=job["reason"] if job["reason"] != "None" else "",
                    node=job["node"] if job["state"] in ("RUNNING", "COMPLETING") else "",
                    restarts=job["restarts"])
        if job.get("job_id") and job["job_id"] != info["array_job_id"]:
            card["task_job_id"] = job["job_id"]
        if job.get("submit_ts") and job.get("start_ts") and job["state"] != "PENDING":
            card["queue_wait_s"] = max(0, job["start_ts"] - job["submit_ts"])
        elif job.get("submit_ts") and job["state"] == "PENDING":
            card["queue_wait_s"] = max(0, int(time.time()) - job["submit_ts"])
    elif final:
        # The job's own exit sync still sees it RUNNING, and squeue soon forgets it: say how the
        # game ended instead of the job's last live state.
        if g["state"] == "completed":
            ended = "COMPLETED"
        elif g["state"] == "failed" and g.get("cause") != "cancelled":
            ended = "FAILED"
        else:
            ended = "CANCELLED"
        card.update(state=ended, reason="", node="")
    return card


def _read_attempts(path: str, offset: int) -> "tuple[List[Dict[str, Any]], List[int]]":
    """Complete lines after `offset`, and the offset after each."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(_ATTEMPTS_READ_MAX)
    except OSError:
        return [], []
    records, ends, pos = [], [], offset
    for line in data.split(b"\n")[:-1]:
        pos += len(line) + 1
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if isinstance(rec, dict) and isinstance(rec.get("event"), str):
            records.append(rec)
            ends.append(pos)
    return records, ends


def _sync_game(run_path: str, st: Dict[str, Any], g: Dict[str, Any], job: Optional[Dict[str, Any]],
               slurm_known: bool, emit: Emit) -> None:
    if g["state"] in run_state.FINAL_GAME_STATES:
        return
    path = game_dir(run_path, g["game"])
    records, ends = _read_attempts(os.path.join(path, ATTEMPTS_FILE), g.get("attempts_offset", 0))
    for rec, end in zip(records, ends):
        if not _apply_record(path, st, g, rec, job, slurm_known, emit):
            break  # SLURM has not settled what happened yet: look again next sync
        slurm_budget.count_attempt(g, rec)
        g["attempts_offset"] = end
        if g["state"] in run_state.FINAL_GAME_STATES:
            return
    if g["state"] == "running":
        _read_trainer_files(path, g, emit)
    elif g["state"] in ("queued", "restarting") and slurm_known and job is None and g.get("pending") is None:
        # Never started and SLURM no longer knows the task: cancelled while it waited.
        _fail(g, "cancelled", "array task %s left the queue without running (cancelled outside Gantry?). "
              "Resume the run to submit it again." % g.get("slurm", {}).get("job_id", "?"), emit)
    elif g["state"] in ("queued", "restarting") and job is not None and job["state"] == "CANCELLED" and g.get("pending") is None:
        _fail(g, "cancelled", "job %s was cancelled while it waited in the queue (scancel outside Gantry). "
              "Resume the run to submit it again." % g.get("slurm", {}).get("job_id", "?"), emit)


def _apply_record(path: str, st: Dict[str, Any], g: Dict[str, Any], rec: Dict[str, Any],
                  job: Optional[Dict[str, Any]], slurm_known: bool, emit: Emit) -> bool:
    """Apply one start/end line; False when its meaning depends on a SLURM state not settled yet."""
    event, name = rec["event"], g["game"]
    rc = rec.get("exit_code") if isinstance(rec.get("exit_code"), int) else None
    where = "job %s on %s" % (rec.get("job"), rec.get("node"))
    if event == "start":
        if g["state"] == "running":  # the previous attempt ended with no end line: killed outright
            _restart(g, _requeue_cause(rec, job), "job %s ended without a word (node lost or killed)" % (
                (g.get("slurm") or {}).get("job_id", "?")), None, emit)
        g["attempt"] = g.get("attempt", 0) + 1
        g.update(state="running", pid=rec.get("pid"), pending=None, cause=None, detail=None,
                 started_ts=rec.get("ts"), next_start_ts=None)
        emit("game_started", game=name, pid=rec.get("pid"), attempt=g["attempt"],
             resumed_from_checkpoint=rec.get("resumed") is True, job=str(rec.get("job")), node=rec.get("node"))
        return True
    _read_trainer_files(path, g, emit, force_progress=event == "completed")
    if event == "completed":
        done = trainer_files.completed(path) or {}
        g["episodes"] = max(int(done.get("episodes", 0) or 0), int(g.get("episodes") or 0))
        g.update(state="completed", cause=None, detail=None, pid=None)
        emit("game_completed", game=name, episodes=g["episodes"])
    elif event == "time_limit":
        _restart(g, "time_limit", "%s reached its time limit; it checkpointed and requeued itself" % where, rc, emit)
    elif event == "crash":
        cause, detail = failure.classify(rc, failure.log_tail(os.path.join(path, "train.log")))
        _restart(g, cause, "%s: %s" % (where, detail), rc, emit)
    elif event == "time_limit_exhausted":
        _fail(g, "time_limit", "%s reached its time limit after %s requeues (max_requeues); raise the time "
              "limit or max_requeues and resume the run" % (where, rec.get("restart")), emit)
    elif event in ("crash_exhausted", "requeue_failed"):
        cause, detail = failure.classify(rc, failure.log_tail(os.path.join(path, "train.log")))
        note = "no restarts left" if event == "crash_exhausted" else "`scontrol requeue` failed"
        _fail(g, cause, "%s: %s (%s)" % (where, detail, note), emit)
    elif event == "terminated":
        return _terminated(g, rec, job, slurm_known, where, rc, emit)
    return True


# slurmstepd's "CANCELLED AT … DUE TO <why>" (the job script records it) → what happened.
_WHY_REQUEUED = {"NODE FAILURE": "node_fail", "PREEMPTION": "preempted", "JOB REQUEUE": "preempted",
                 "TIME LIMIT": "time_limit"}


def _terminated(g: Dict[str, Any], rec: Dict[str, Any], job: Optional[Dict[str, Any]], slurm_known: bool,
                where: str, rc: Optional[int], emit: Emit) -> bool:
    """SLURM sent SIGTERM: our pause or stop, a requeue (preemption, node failure) or a scancel."""
    pending = g.get("pending")
    if pending == "pause":
        g.update(state="paused", pending=None, pid=None)
        emit("game_paused", game=g["game"])
        return True
    if pending == "stop":
        g.update(state="stopped", pending=None, pid=None)
        emit("game_stopped", game=g["game"])
        return True
    why = rec.get("why") if isinstance(rec.get("why"), str) else ""
    if why in _WHY_REQUEUED:
        _restart(g, _WHY_REQUEUED[why], "%s: SLURM cancelled it due to %s and requeued it" % (where, why.lower()), rc, emit)
        return True
    if why == "CANCELLED":
        _fail(g, "cancelled", "%s was cancelled outside Gantry (scancel or an admin); it is not retried. "
              "Resume the run to submit it again." % where, emit)
        return True
    # slurmstepd said nothing we know: ask SLURM what became of the job.
    if not slurm_known:
        return False
    if job is not None and job["state"] in _REQUEUED and (job["restarts"] > rec.get("restart", 0) or job["state"] != "RUNNING"):
        _restart(g, _requeue_cause(rec, job), "%s was requeued by SLURM (%s)" % (where, job["reason"] or job["state"]), rc, emit)
        return True
    if job is None or job["state"] in ("CANCELLED", "COMPLETED", "FAILED", "TIMEOUT", "OUT_OF_MEMORY", "DEADLINE"):
        _fail(g, "cancelled", "%s was cancelled outside Gantry (scancel or an admin); it is not retried. "
              "Resume the run to submit it again." % where, emit)
        return True
    return False  # still COMPLETING or RUNNING the old attempt: decide next sync


def _requeue_cause(rec: Dict[str, Any], job: Optional[Dict[str, Any]]) -> str:
    """node_fail when SLURM says so or the attempt's node is down or failing now, else preempted."""
    if (job or {}).get("state") == "NODE_FAIL" or "NodeDown" in (job or {}).get("reason", ""):
        return "node_fail"
    node = rec.get("node") if isinstance(rec.get("node"), str) else ""
    if node:
        result = slurm_cmd.run(["sinfo", "-h", "-n", node, "-o", "%T"], check=False)
        if any(word in result.stdout for word in ("down", "drain", "fail", "not_responding")):
            return "node_fail"
    return "preempted"


def _restart(g: Dict[str, Any], cause: str, detail: str, rc: Optional[int], emit: Emit) -> None:
    g["restarts"] = g.get("restarts", 0) + 1
    g.update(state="restarting", cause=cause, detail=detail, pid=None, next_start_ts=None)
    emit("game_restarting", game=g["game"], cause=cause, attempt=g.get("attempt", 0) + 1, exit_code=rc,
         detail=detail, delay_s=0)


def _fail(g: Dict[str, Any], cause: str, detail: str, emit: Emit) -> None:
    g.update(state="failed", cause=cause, detail=detail, pid=None, pending=None)
    emit("game_failed", game=g["game"], cause=cause, detail=detail)


def _read_trainer_files(path: str, g: Dict[str, Any], emit: Emit, force_progress: bool = False) -> None:
    name = g["game"]
    latest = trainer_files.latest_metrics(path)
    if latest is not None:
        before = g.get("episodes")
        g.update(trainer_files.progress_fields(latest, g.get("last_progress_ts")))
        due = time.time() - (g.get("progress_emitted_ts") or 0) >= _progress_interval_s()
        if force_progress or (due and g.get("episodes") != before) or (due and g.get("progress_emitted_ts") is None):
            g["progress_emitted_ts"] = round(time.time(), 3)
            emit("progress", game=name, episodes=g.get("episodes", 0), target_episodes=g["target_episodes"],
                 mean_return=g.get("mean_return"), global_step=g.get("global_step", 0),
                 sps=latest.get("sps"), episodes_per_hour=latest.get("episodes_per_hour"))
    for ckpt in trainer_files.checkpoints(path):
        step = ckpt.get("global_step")
        if isinstance(step, int) and (g.get("last_ckpt_step") is None or step > g["last_ckpt_step"]):
            g["last_ckpt_step"] = step
            emit("checkpoint", game=name, file=ckpt["file"], global_step=step)
    for model in trainer_files.models(path):
        if model["file"] not in g["models_seen"]:
            g["models_seen"].append(model["file"])
            emit("model_exported", game=name, file=model["file"], sha256=model.get("sha256"),
                 size=model.get("size"), global_step=model.get("global_step"))


def _finish_if_done(st: Dict[str, Any], emit: Emit) -> None:
    states = [g["state"] for g in st["games"].values()]
    if not all(s in run_state.FINAL_GAME_STATES for s in states):
        return
    final = "stopped" if "stopped" in states else "failed" if "failed" in states else "completed"
    st["state"] = final
    emit("run_completed", state=final)


def write_array_info(run_path: str, info: Dict[str, Any]) -> None:
    atomic.write_json(os.path.join(run_path, slurm_view.ARRAY_FILE), info)
