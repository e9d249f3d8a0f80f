"""The per-run supervisor: a queue of trainers in N slots, restarts, journal, GPU samples.

Runs detached (see launcher.py) and holds runs/<id>/supervisor.lock for its lifetime. It never
sits between a trainer and its files: trainers write metrics, checkpoints and models themselves
and the supervisor only reads them, so killing the supervisor (or the SSH session that started
it) never stops training. A restarted supervisor re-adopts trainers that are still alive.
"""
import os
import signal
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

from . import budget, control, cpus, failure, gpu, gpu_placement, procs, restart_rules, runlock, trainer_files
from . import state as run_state
from .journal import Journal
from .knobs import env_float
from .mps import Mps
from .paths import game_dir, run_dir
from .plan import Plan, game_by_name, load_plan_file, trainer_argv, trainer_command, trainer_env
from .state import GameRecord
from .stopper import default_grace_s


class Supervisor:
    def __init__(self, root: str, run_id: str) -> None:
        self.root = root
        self.run_id = run_id
        self.run_path = run_dir(root, run_id)
        # plan.json sits on a disk anyone with the account can edit: validated again on every start.
        self.plan: Plan = load_plan_file(os.path.join(self.run_path, "plan.json"))
        self.trainer_command = trainer_command(root)
        # Intervals are env-tunable so tests run in seconds; defaults suit multi-day runs.
        self.tick_s = env_float("GANTRY_TICK_S", 1.0)
        self.progress_interval_s = env_float("GANTRY_PROGRESS_INTERVAL_S", 30.0)
        self.heartbeat_interval_s = env_float("GANTRY_HEARTBEAT_S", 60.0)
        self.grace_s = default_grace_s()
        self.children: Dict[str, subprocess.Popen] = {}
        self.cores = sorted(os.sched_getaffinity(0))  # shared out among the slots (gantry_remote.cpus)
        self.tails: Dict[str, trainer_files.MetricsTail] = {}
        self.last_activity: Dict[str, float] = {}
        self.last_progress_emit: Dict[str, float] = {}
        self.stopping = False
        self.exit_requested = False
        self.gpu_state = "unknown"  # unknown | ok | failing | absent
        self.next_gpu_sample = 0.0
        self.mps = Mps(self.run_path)
        self.mps_tried = False
        self.next_heartbeat = time.monotonic() + self.heartbeat_interval_s
        self._last_save_error: Optional[str] = None
        self.budget_meter: Optional[budget.Meter] = None
        self.next_budget_emit = 0.0
        self.state: run_state.RunState
        self.journal: Journal

    # ---- small helpers -------------------------------------------------------------------

    def log(self, message: str) -> None:
        try:
            sys.stdout.write("%s [supervisor %s] %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), self.run_id, message))
            sys.stdout.flush()
        except OSError:
            pass  # the log disk may be full; the journal and state matter more

    def emit(self, event_type: str, **fields: Any) -> None:
        try:
            self.journal.append(event_type, **fields)
        except OSError as e:
            # Queued in order and retried every tick; it gets its seq when it is written.
            self.log("cannot write %s event yet (%s); will retry" % (event_type, e))

    def save_state(self) -> bool:
        self.state["last_seq"] = self.journal.last_seq
        self.state["unwritten_events"] = self.journal.unwritten()
        self.state["supervisor_pid"] = os.getpid()
        try:
            run_state.save(self.run_path, self.state)
        except OSError as e:
            # atomic.write_json leaves the previous state.json intact; try again next tick.
            if str(e) != self._last_save_error:
                self.log("cannot write state.json (%s); previous state kept, retrying every tick" % e)
            self._last_save_error = str(e)
            return False
        if self._last_save_error:
            self.log("state.json writable again")
        self._last_save_error = None
        return True

    def games(self) -> List[GameRecord]:
        return [self.state["games"][name] for name in self.state["order"]]

    def game_path(self, name: str) -> str:
        return game_dir(self.run_path, name)

    # ---- lifecycle -----------------------------------------------------------------------

    def run(self) -> int:
        lock_fd = runlock.acquire(os.path.join(self.run_path, "supervisor.lock"), wait_s=1.0)
        if lock_fd is None:
            self.log("another supervisor already runs this run; exiting")
            return 3
        os.ftruncate(lock_fd, 0)
        os.write(lock_fd, str(os.getpid()).encode())
        signal.signal(signal.SIGTERM, self._on_exit_signal)
        signal.signal(signal.SIGINT, self._on_exit_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:
            self._start_up()
            while not self.exit_requested:
                if self.tick():
                    break
                time.sleep(self.tick_s)
            self._drain_before_exit()
        finally:
            runlock.release(lock_fd)
        return 0

    def _drain_before_exit(self) -> None:
        """Do not leave with run_completed or the final state unwritten (e.g. disk full):
        keep retrying until both are on disk, or until asked to exit by a signal."""
        while True:
            try:
                self.journal.flush()
            except OSError:
                pass
            saved = self.save_state()
            if saved and not self.journal.pending_count:
                return
            if self.exit_requested:
                self.log("exiting with %d events unwritten" % self.journal.pending_count)
                return
            time.sleep(max(self.tick_s, 0.5))

    def _on_exit_signal(self, signum: int, _frame: Any) -> None:
        # The supervisor leaving does not stop training: trainers run on and a later
        # `start --run-id` adopts them. Use `stop` to stop training.
        self.log("received %s; leaving trainers running" % signal.Signals(signum).name)
        self.exit_requested = True

    def _start_up(self) -> None:
        loaded = run_state.load(self.run_path)
        self.state = loaded if loaded else run_state.new_state(self.run_id, self.plan)
        self.journal = Journal(os.path.join(self.run_path, "events.jsonl"), self.run_id, self.state.get("last_seq", 0),
                               self.state.get("unwritten_events"))
        resumed = self.journal.last_seq > 0 or self.journal.pending_count > 0
        adopted: List[str] = []
        requeued: List[str] = []
        gone: List[GameRecord] = []
        if resumed:
            adopted, requeued, gone = self._recover()
        self.state["state"] = "running"
        if "gpus" not in self.state:  # kept across supervisor restarts, like each game's GPU
            self.state["gpus"] = self._gpus_for_run()
        self.emit("run_started", plan_name=self.plan["name"], slots=self.state["slots"],
                  games=list(self.state["order"]), resumed=resumed, gpus=self.state["gpus"])
        self._share_gpus_if_needed()
        self.emit("supervisor_started", pid=os.getpid(), adopted=adopted)
        for g in self.games():
            unrecorded = g.pop("unrecorded", None)
            if unrecorded:  # its game_started never reached the journal
                self.emit("game_started", game=g["game"], pid=g["pid"], attempt=g["attempt"],
                          resumed_from_checkpoint=unrecorded["resumed"], gpu=g.get("gpu"))
        for g in self.games():
            if g["state"] == "queued" and (not resumed or g["game"] in requeued):
                self.emit("game_queued", game=g["game"], target_episodes=g["target_episodes"])
        for g in gone:
            # Ended while no supervisor watched: completed.json decides completed vs crashed.
            self._on_trainer_gone(g, returncode=None)
        if self.plan.get("budget"):
            self.budget_meter = budget.Meter(self.state.setdefault("budget", {}), time.time(), bool(adopted))
        self.log("started (pid %d, resumed=%s, adopted=%s)" % (os.getpid(), resumed, adopted))
        self.save_state()

    def _gpus_for_run(self) -> List[int]:
        """The GPUs this run places trainers on: the plan's choice among those the host has."""
        host: List[int] = []
        if gpu.nvidia_smi_path() is not None:
            try:
                host = [g["index"] for g in gpu.sample() if isinstance(g["index"], int)]
            except gpu.GpuUnavailable as e:
                self.log("cannot list GPUs (%s); trainers are not pinned to a GPU" % e)
        used, missing = gpu_placement.gpus_to_use(self.plan.get("gpus", "all"), host)
        if missing:
            self.log("the plan lists GPU(s) %s, which this host does not have; using %s" % (
                ", ".join(map(str, missing)), ", ".join(map(str, used)) or "none"))
            self.emit("gpu_unavailable", reason="The plan lists GPU %s, which this host does not have (it has %s)." % (
                ", ".join(map(str, missing)), ", ".join(map(str, host)) or "none"))
        return used

    def _share_gpus_if_needed(self) -> None:
        """Start the run's MPS daemon once two or more trainers may share a GPU (plan "mps": "auto")."""
        if self.mps_tried or self.plan.get("mps", "auto") != "auto" or not self.state["gpus"] or self.state["slots"] < 2:
            return
        self.mps_tried = True
        reason = self.mps.start()
        if reason:
            self.log("trainers sharing a GPU will time-slice: %s" % reason)
            self.emit("mps_unavailable", reason=reason)
        else:
            self.log("CUDA MPS on: trainers sharing a GPU run side by side (pipe %s)" % self.mps.pipe_dir)

    def _recover(self) -> "tuple[List[str], List[str], List[GameRecord]]":
        """After a supervisor restart: which trainers live on (adopt) and which ended meanwhile."""
        adopted, requeued, gone = [], [], []
        if self.state["state"] in ("stopped", "failed"):
            # Resuming a stopped or failed run means "carry on": put unfinished games back.
            for g in self.games():
                if g["state"] in ("stopped", "failed"):
                    g.update(state="queued", restarts=0, cause=None, detail=None, pending=None)
                    requeued.append(g["game"])
        for g in self.games():
            name = g["game"]
            if g["state"] in ("queued", "restarting"):
                # Started by a supervisor that died before it could record the pid: adopt, never duplicate.
                found = procs.find_trainer(self.game_path(name))
                if found:
                    _mark_running(g, found.pid, found.start)
                    g["gpu"] = gpu_placement.parse_visible_devices(procs.environ_value(found.pid, "CUDA_VISIBLE_DEVICES"))
                    g.update(attempt=g["attempt"] + 1, unrecorded={"resumed": found.resumed})
            if g["state"] != "running":
                continue
            if procs.is_same_process(g.get("pid"), g.get("pid_start")):
                self.tails[name] = trainer_files.MetricsTail(os.path.join(self.game_path(name), "metrics.jsonl"), from_end=True)
                self.last_activity[name] = time.monotonic()
                if g.get("pending"):
                    g["signal_ts"] = time.time()  # its grace period restarts now
                adopted.append(name)
            else:
                gone.append(g)
        return adopted, requeued, gone

    # ---- one tick ------------------------------------------------------------------------

    def tick(self) -> bool:
        """One pass over everything; True when the run is finished."""
        try:
            self.journal.flush()
        except OSError as e:
            self.log("journal still not writable: %s" % e)
        self._apply_control()
        for g in self.games():
            if g["state"] == "running":
                self._watch_running(g)
        self._start_due()
        self._enforce_budget()
        self._sample_gpu()
        if time.monotonic() >= self.next_heartbeat:
            self.emit("heartbeat", pid=os.getpid())
            self.next_heartbeat = time.monotonic() + self.heartbeat_interval_s
        finished = self._finish_if_done()
        self.save_state()
        return finished

    # ---- control requests ----------------------------------------------------------------

    def _apply_control(self) -> None:
        for path, req in control.pending(self.run_path):
            action = req.get("action")
            try:
                if action == "pause":
                    self._pause(req.get("game"))
                elif action == "resume":
                    self._resume(req.get("game"))
                elif action == "set_slots":
                    self._set_slots(req.get("slots"))
                elif action == "stop":
                    self._stop(req.get("grace_s"))
                else:
                    self.log("ignoring unknown control request %s: %r" % (os.path.basename(path), req))
            finally:
                control.done(path)

    def _pause(self, name: Any) -> None:
        g = self.state["games"].get(name)
        if g is None:
            self.log("pause: unknown game %r" % name)
            return
        if g["state"] in ("queued", "restarting"):
            g.update(state="paused", next_start_ts=None)
            self.emit("game_paused", game=name)
        elif g["state"] == "running" and g.get("pending") in (None, "requeue"):
            g.update(pending="pause", signal_ts=time.time())
            procs.terminate_group(g["pid"])
            self.log("pausing %s: SIGTERM sent, waiting for its checkpoint" % name)

    def _resume(self, name: Any) -> None:
        g = self.state["games"].get(name)
        if g is None:
            self.log("resume: unknown game %r" % name)
            return
        if g["state"] == "paused":
            g["state"] = "queued"
            self.emit("game_resumed", game=name)
        elif g["state"] == "running" and g.get("pending") == "pause":
            g["pending"] = "requeue"  # it is already checkpointing; start it again once it exits
            self.emit("game_resumed", game=name)

    def _set_slots(self, slots: Any) -> None:
        if not isinstance(slots, int) or isinstance(slots, bool) or slots < 1:
            self.log("set_slots: ignoring invalid value %r" % (slots,))
            return
        self.state["slots"] = slots
        self.emit("slots_changed", slots=slots)
        self._share_gpus_if_needed()
        self._reassign_cores()

    def _reassign_cores(self) -> None:
        """Running trainers take slots 0.. in their current order and move onto those slots' cores."""
        running = sorted((g for g in self.games() if g["state"] == "running"), key=lambda g: g.get("slot") or 0)
        shares = cpus.core_shares(self.cores, max(self.state["slots"], len(running)))
        for slot, g in enumerate(running):
            try:
                cpus.pin_process(g["pid"], shares[slot])
            except (ProcessLookupError, PermissionError, OSError) as e:
                self.log("cannot move %s onto cores %s: %s" % (g["game"], cpus.format_cpu_list(shares[slot]), e))
                continue
            g.update(slot=slot, cpus=cpus.format_cpu_list(shares[slot]))
        self.log("cores per slot now: %s" % "; ".join("%s %s" % (g["game"], g.get("cpus")) for g in running))

    def _stop(self, grace_s: Any, export: bool = False) -> None:
        """export: ask each trainer to export its model after its last checkpoint (the budget stop)."""
        if isinstance(grace_s, (int, float)) and not isinstance(grace_s, bool) and grace_s >= 0:
            self.grace_s = float(grace_s)
        self.stopping = True
        for g in self.games():
            if g["state"] == "running":
                if export:
                    trainer_files.request_export_on_stop(self.game_path(g["game"]))
                if g.get("pending") != "stop":
                    g.update(pending="stop", signal_ts=time.time())
                    procs.terminate_group(g["pid"])
            elif g["state"] in ("queued", "restarting", "paused"):
                g.update(state="stopped", next_start_ts=None)
                self.emit("game_stopped", game=g["game"])
        self.log("stop requested (grace %.0f s)" % self.grace_s)

    # ---- running trainers ----------------------------------------------------------------

    def _read_trainer_files(self, g: GameRecord) -> None:
        name = g["game"]
        tail = self.tails.get(name)
        if tail is not None:
            lines = tail.read_new()
            if lines:
                self.last_activity[name] = time.monotonic()
                last = lines[-1]
                g.update(trainer_files.progress_fields(last, round(time.time(), 3)))
                g["_last_metrics"] = {k: trainer_files.finite_or_none(last.get(k)) for k in ("sps", "episodes_per_hour")}
                diverged = next((bad for bad in map(trainer_files.non_finite, lines) if bad), None)
                if diverged and g.get("pending") is None and g["state"] == "running":
                    # Its weights are garbage now: SIGKILL (a SIGTERM would ask for a checkpoint of them).
                    self.log("%s reports non-finite values (%s): diverged, killing its process group" % (name, diverged))
                    g.update(pending="nan", signal_ts=time.time(), detail="non-finite values in metrics.jsonl: %s" % diverged)
                    procs.kill_group(g["pid"])
                if time.monotonic() - self.last_progress_emit.get(name, -1e18) >= self.progress_interval_s:
                    self._emit_progress(g)
        path = self.game_path(name)
        for ckpt in trainer_files.checkpoints(path):
            step = ckpt.get("global_step")
            if isinstance(step, int) and (g.get("last_ckpt_step") is None or step > g["last_ckpt_step"]):
                g["last_ckpt_step"] = step
                self.emit("checkpoint", game=name, file=ckpt["file"], global_step=step)
        for model in trainer_files.models(path):
            if model["file"] not in g["models_seen"]:
                g["models_seen"].append(model["file"])
                self.emit("model_exported", game=name, file=model["file"], sha256=model.get("sha256"),
                          size=model.get("size"), global_step=model.get("global_step"))

    def _emit_progress(self, g: GameRecord) -> None:
        extra = g.get("_last_metrics") or {}
        self.last_progress_emit[g["game"]] = time.monotonic()
        self.emit("progress", game=g["game"], episodes=g["episodes"], target_episodes=g["target_episodes"],
                  mean_return=g.get("mean_return"), global_step=g.get("global_step", 0),
                  sps=extra.get("sps"), episodes_per_hour=extra.get("episodes_per_hour"))

    def _exit_status(self, g: GameRecord) -> "tuple[bool, Optional[int]]":
        """(gone, returncode). Adopted trainers are not our children: no exit code then."""
        child = self.children.get(g["game"])
        if child is not None:
            rc = child.poll()
            return rc is not None, rc
        return not procs.is_same_process(g.get("pid"), g.get("pid_start")), None

    def _watch_running(self, g: GameRecord) -> None:
        name = g["game"]
        self._read_trainer_files(g)
        gone, rc = self._exit_status(g)
        if gone:
            self.children.pop(name, None)
            self._read_trainer_files(g)  # the last lines it wrote before exiting
            self._on_trainer_gone(g, rc)
            return
        now = time.time()
        pending = g.get("pending")
        if pending in ("pause", "stop", "requeue", "nan") and now - (g.get("signal_ts") or now) > self.grace_s:
            self.log("%s did not exit %.0f s after SIGTERM; SIGKILL" % (name, self.grace_s))
            procs.kill_group(g["pid"])
            g["signal_ts"] = now  # do not repeat every tick
        elif pending is None:
            idle = time.monotonic() - self.last_activity.get(name, time.monotonic())
            if idle > float(self.plan["heartbeat_timeout_s"]):
                self.log("%s wrote no metrics for %.0f s: frozen, killing its process group" % (name, idle))
                g.update(pending="frozen", signal_ts=now, detail="no new metrics line for %.0f s" % idle)
                procs.kill_group(g["pid"])

    def _on_trainer_gone(self, g: GameRecord, returncode: Optional[int]) -> None:
        name = g["game"]
        pending = g.get("pending")
        g.update(pid=None, pid_start=None, pending=None, signal_ts=None)
        done = trainer_files.completed(self.game_path(name))
        if done is not None:
            g["episodes"] = max(int(done.get("episodes", 0) or 0), int(g.get("episodes") or 0))
            if isinstance(done.get("global_step"), int):
                g["global_step"] = done["global_step"]
            g.update(state="completed", cause=None, detail=None)
            self._emit_progress(g)
            self.emit("game_completed", game=name, episodes=g["episodes"])
            return
        if pending == "pause":
            g["state"] = "paused"
            self.emit("game_paused", game=name, **(g.pop("pause_why", None) or {}))
        elif pending == "stop":
            g["state"] = "stopped"
            self.emit("game_stopped", game=name)
        elif pending == "requeue":
            g["state"] = "queued"
        elif pending == "frozen":
            self._failed_attempt(g, "frozen", g.get("detail") or "no new metrics", returncode)
        elif pending == "nan":
            self._failed_attempt(g, "nan", g.get("detail") or "non-finite values in metrics.jsonl", returncode)
        else:
            cause, detail = failure.classify(returncode, failure.log_tail(os.path.join(self.game_path(name), "train.log")))
            self._mend_mps()
            self._failed_attempt(g, cause, detail, returncode)

    def _mend_mps(self) -> None:
        """A fatal fault in one MPS client can end the daemon and every trainer on it: before any
        of them restarts (from its checkpoint), make sure the daemon answers again."""
        if not self.mps.active or self.mps.healthy():
            return
        reason = self.mps.restart()
        if reason:
            self.log("MPS daemon died and could not be restarted; trainers now time-slice: %s" % reason)
            self.emit("mps_unavailable", reason=reason)
        else:
            self.log("MPS daemon died with a trainer; restarted it")

    def _failed_attempt(self, g: GameRecord, cause: str, detail: str, returncode: Optional[int]) -> None:
        restart = self.plan["restart"]
        g.update(cause=cause, detail=detail)
        rule = restart_rules.rule_for(self.plan["restart_rules"], cause)
        if self.stopping:
            g["state"] = "stopped"
            self.emit("game_stopped", game=g["game"])
        elif rule["action"] == "pause":
            self._pause_by_rule(g, cause, detail)
        elif rule["action"] != "fail" and g["restarts"] < restart["max_restarts"]:
            g["restarts"] += 1
            backoff = restart["backoff_s"]
            delay = float(backoff[min(g["restarts"] - 1, len(backoff) - 1)])
            args = dict((game_by_name(self.plan, g["game"]) or {}).get("trainer_args") or {}, **(g.get("overrides") or {}))
            changes, note = restart_rules.changes_for(rule, args, g["backend"])
            if changes:
                g["overrides"] = dict(g.get("overrides") or {}, **{c["arg"]: c["to"] for c in changes})
            g.update(state="restarting", next_start_ts=round(time.time() + delay, 3))
            self.log("%s stopped (%s: %s); rule %s%s; restart %d/%d in %.0f s" % (
                g["game"], cause, detail, rule["action"], (": " + restart_rules.describe(changes)) if changes else "",
                g["restarts"], restart["max_restarts"], delay) + ("; " + note if note else ""))
            extra = {"note": note} if note else {}
            self.emit("game_restarting", game=g["game"], cause=cause, attempt=g["attempt"] + 1,
                      exit_code=returncode, detail=detail, delay_s=delay, rule=rule["action"], changes=changes, **extra)
        else:
            g["state"] = "failed"
            why = "restart rule for %s is fail" % cause if rule["action"] == "fail" else "after %d restarts" % g["restarts"]
            self.log("%s failed (%s; %s: %s)" % (g["game"], why, cause, detail))
            self.emit("game_failed", game=g["game"], cause=cause, detail=detail)

    def _pause_by_rule(self, g: GameRecord, cause: str, detail: str) -> None:
        """Restarting will not help (a CUDA or driver fault): pause the game and say why. Under MPS
        one server serves every trainer of a GPU, so such a fault can hit them all: pause those too
        (each checkpoints on SIGTERM) rather than let them fail one by one."""
        g.update(state="paused", next_start_ts=None)
        self.log("%s paused by its restart rule (%s: %s); resume it once the GPU is fixed" % (g["game"], cause, detail))
        self.emit("game_paused", game=g["game"], cause=cause, detail=detail, rule="pause")
        if not self.mps.active or g.get("gpu") is None:
            return
        why = {"cause": cause, "rule": "pause",
               "detail": "paused with %s: a %s fault on GPU %d can hit every trainer sharing it through MPS" % (
                   g["game"], cause, g["gpu"])}
        for other in self.games():
            if other is g or other.get("gpu") != g["gpu"]:
                continue
            if other["state"] == "running" and other.get("pending") in (None, "requeue"):
                other.update(pending="pause", signal_ts=time.time(), pause_why=why)
                procs.terminate_group(other["pid"])
                self.log("pausing %s too (same GPU %d, MPS): SIGTERM sent" % (other["game"], g["gpu"]))
            elif other["state"] == "restarting":
                other.update(state="paused", next_start_ts=None)
                self.emit("game_paused", game=other["game"], **why)

    # ---- starting trainers ---------------------------------------------------------------

    def _start_due(self) -> None:
        if self.stopping:
            return
        now = time.time()
        running = sum(1 for g in self.games() if g["state"] == "running")
        # Restarts whose backoff has passed go first: they were already under way.
        due = [g for g in self.games() if g["state"] == "restarting" and (g.get("next_start_ts") or 0) <= now]
        due += [g for g in self.games() if g["state"] == "queued"]
        for g in due:
            if running >= gpu_placement.capacity(self.state["gpus"], self.state["slots"]):
                break
            self._start_trainer(g)
            if g["state"] == "running":
                running += 1

    def _choose_gpu(self, g: GameRecord) -> Optional[int]:
        gpus = self.state["gpus"]
        per_gpu = gpu_placement.load((x.get("gpu") for x in self.games() if x["state"] == "running"), gpus)
        return gpu_placement.choose_gpu(gpus, per_gpu, self.state["slots"], previous=g.get("gpu"))

    def _start_trainer(self, g: GameRecord) -> None:
        name = g["game"]
        path = self.game_path(name)
        os.makedirs(path, exist_ok=True)
        resume = trainer_files.has_checkpoint(path)
        argv = trainer_argv(self.trainer_command, game_by_name(self.plan, name), path, resume, g.get("overrides"))
        env = trainer_env()
        if self.state["gpus"]:
            index = self._choose_gpu(g)
            if index is None:  # every GPU's slots are taken (slots were lowered meanwhile)
                return
            g["gpu"] = index
            env.update(CUDA_VISIBLE_DEVICES=str(index), **self.mps.client_env())
        taken = {x.get("slot") for x in self.games() if x["state"] == "running"}
        slot = min(k for k in range(len(taken) + 1) if k not in taken)
        cores = cpus.core_shares(self.cores, max(self.state["slots"], slot + 1))[slot]
        g["attempt"] += 1
        try:
            with open(os.path.join(path, "train.log"), "ab") as log:
                log.write(("\n=== gantry: attempt %d at %s: %s\n" % (
                    g["attempt"], time.strftime("%Y-%m-%d %H:%M:%S"), " ".join(argv))).encode())
                log.flush()
                # Affinity set in the child before exec, so every thread it starts inherits it (the
                # supervisor has no threads, so preexec_fn is safe here).
                child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=path, env=env, start_new_session=True, close_fds=True,
                                         preexec_fn=lambda: os.sched_setaffinity(0, cores))
        except OSError as e:
            self._failed_attempt(g, "crash", "cannot start trainer %r: %s" % (argv[0], e), None)
            return
        self.children[name] = child
        _mark_running(g, child.pid, procs.start_time(child.pid))
        g.update(slot=slot, cpus=cpus.format_cpu_list(cores))
        if name not in self.tails:
            self.tails[name] = trainer_files.MetricsTail(os.path.join(path, "metrics.jsonl"), from_end=True)
        self.last_activity[name] = time.monotonic()
        self.log("started %s attempt %d (pid %d, resume=%s, gpu %s, cores %s)" % (
            name, g["attempt"], child.pid, resume, g.get("gpu"), g["cpus"]))
        # The pid goes to state.json before anyone hears of the start: a supervisor killed after
        # this point is replaced by one that adopts this trainer instead of starting a second.
        self.save_state()
        self.emit("game_started", game=name, pid=child.pid, attempt=g["attempt"], resumed_from_checkpoint=resume,
                  gpu=g.get("gpu"))

    # ---- budget ------------------------------------------------------------------------------

    def _enforce_budget(self) -> None:
        """Count active time, journal spent / projected / limit, warn early, stop cleanly at the limit."""
        plan_budget = self.plan.get("budget")
        if not plan_budget or self.budget_meter is None:
            return
        meter = self.budget_meter
        meter.tick(time.time(), any(g["state"] in run_state.ACTIVE_GAME_STATES for g in self.games()))
        spent = budget.spent(plan_budget, meter.active_s)
        games = self.games()
        projected = budget.projected(spent, sum(min(g["episodes"], g["target_episodes"]) for g in games),
                                     sum(g["target_episodes"] for g in games))
        status = budget.status(plan_budget, spent, projected)
        changed = status != meter.record["status"]
        if changed or time.monotonic() >= self.next_budget_emit:
            meter.record["status"] = status
            self.next_budget_emit = time.monotonic() + 2 * self.progress_interval_s
            self.emit("budget", spent=round(spent, 6), projected=None if projected is None else round(projected, 6),
                      limit=plan_budget["limit"], unit=plan_budget["unit"], status=status,
                      on_limit=plan_budget["on_limit"], active_hours=round(meter.active_s / 3600.0, 6))
            if changed and status != "ok":
                self.log("budget %s: spent %.4g of %.4g %s (projected %s)" % (
                    status, spent, plan_budget["limit"], plan_budget["unit"], "%.4g" % projected if projected else "-"))
        if status == "reached" and plan_budget["on_limit"] == "stop" and not self.stopping:
            self.log("budget reached: stopping every trainer (checkpoint and export first)")
            self._stop(None, export=True)

    # ---- GPU and completion --------------------------------------------------------------

    def _sample_gpu(self) -> None:
        if self.gpu_state == "absent" or time.monotonic() < self.next_gpu_sample:
            return
        self.next_gpu_sample = time.monotonic() + float(self.plan["gpu_sample_s"])
        if gpu.nvidia_smi_path() is None:
            self.gpu_state = "absent"
            self.emit("gpu_unavailable", reason="nvidia-smi not found; training runs without GPU metrics")
            return
        try:
            gpus = gpu.sample()
        except gpu.GpuUnavailable as e:
            if self.gpu_state != "failing":  # one event per outage, not one per sample
                self.emit("gpu_unavailable", reason=str(e))
            self.gpu_state = "failing"
            return
        self.gpu_state = "ok"
        self.emit("gpu", gpus=gpus)

    def _finish_if_done(self) -> bool:
        states = [g["state"] for g in self.games()]
        if not all(s in run_state.FINAL_GAME_STATES for s in states):
            return False
        final = run_state.final_run_state(states)
        self.state["state"] = final
        self.mps.stop()  # no trainer of this run is left to use it
        self.emit("run_completed", state=final)
        self.log("run %s" % final)
        return True


def _mark_running(g: GameRecord, pid: int, pid_start: Optional[int]) -> None:
    g.update(state="running", pid=pid, pid_start=pid_start, pending=None, signal_ts=None, next_start_ts=None,
             started_ts=round(time.time(), 3))


def main(root: str, run_id: str) -> int:
    return Supervisor(root, run_id).run()
