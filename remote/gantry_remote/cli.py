"""The JSON CLI the desktop drives (`python3 -m gantry_remote <cmd> …`); see PROTOCOL.md.

Every command prints JSON on stdout. Problems the user can fix print
{"error": {"code", "message"}} and exit 2; the message says what to do next.
"""
import argparse
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

from . import atomic, control, procs, runlock, scheduler, trainer_files
from . import state as run_state
from .launch_backends import host_backends, needs_backend_check, resolve_backends
from .paths import UserError, default_root, game_dir, list_run_ids, new_run_id, run_dir, validate_run_id
from .plan import game_by_name, load_plan_file, trainer_command


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError("bad_arguments", "%s. Run `python3 -m gantry_remote %s --help` for usage." % (
            message, self.prog.split()[-1] if " " in self.prog else ""))


def _print(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _say(line: str) -> None:
    """A progress line for a person (stdout stays one JSON answer)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _root(args: argparse.Namespace) -> str:
    return os.path.abspath(os.path.expanduser(args.root or default_root()))


def _run_arg(args: argparse.Namespace, name: str = "run") -> Optional[str]:
    value = getattr(args, name, None)
    return validate_run_id(value) if value is not None else None


# ---- commands -----------------------------------------------------------------------------

def _scheduler_arg(text: str) -> Any:
    try:
        block = json.loads(text)
    except ValueError as e:
        raise UserError("bad_plan", "--scheduler is not JSON (%s): pass the plan's {\"kind\": \"slurm\", …} block." % e) from None
    if not isinstance(block, dict) or block.get("kind") != "slurm":
        raise UserError("bad_plan", "--scheduler must be a {\"kind\": \"slurm\", …} block.")
    return block


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import doctor
    report = doctor(_root(args))
    if args.slurm:
        from .doctor_slurm import slurm_report, slurm_verdicts
        from .slurm_batch import validate_options
        options = validate_options(_scheduler_arg(args.scheduler) if args.scheduler else
                                   {"kind": "slurm", "partition": args.partition})
        # The test job's state and output stream to stderr as they arrive (the desktop shows them live).
        report["slurm"] = slurm_report(_root(args), options, test_job=not args.no_test_job, say=_say,
                                       test_job_timeout=args.test_job_timeout)
        found = slurm_verdicts(report["slurm"], options["partition"])
        blocking = [v for v in found if v["level"] in ("error", "warning")]
        # "Ready to train" means ready on the cluster too.
        report["verdicts"] = [v for v in report["verdicts"] if not (blocking and v["level"] == "ok")] + found
    _print(report)
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    from .launcher import spawn_supervisor
    root = _root(args)
    run_id = _run_arg(args, "run_id")
    plan = load_plan_file(args.plan) if args.plan else None
    if plan is None and run_id is None:
        raise UserError("bad_arguments", "Give --plan PLAN.json to start a new run, or --run-id ID to resume one.")

    def available(checked_plan: Dict[str, Any], requested: Optional[str]) -> List[str]:
        return host_backends(trainer_command(root)[0]) if needs_backend_check(checked_plan, requested) else ["builtin"]

    if plan is not None:
        plan = resolve_backends(plan, available(plan, args.atari_backend), args.atari_backend)
    if run_id is None:
        run_id = new_run_id()
    path = run_dir(root, run_id)
    existing = run_state.load(path)
    if existing is not None:
        if scheduler.kind_of_run(path) == "slurm" and existing.get("state") != "completed":
            from . import slurm_run
            stored = load_plan_file(os.path.join(path, "plan.json"))
            if plan is not None and plan != stored:
                raise UserError("plan_mismatch", "Run %s was started with a different plan. Omit --plan to resume it "
                                "as it was, or pick a new --run-id." % run_id)
            _print(slurm_run.resubmit(root, run_id, path, stored))
            return 0
        if run_state.supervisor_alive(path):
            owner = runlock.holder_pid(os.path.join(path, "supervisor.lock"))
            raise UserError("run_running", "Run %s is already running (its supervisor, pid %s, is alive). "
                            "Use `status --run %s` or `attach --run %s`." % (run_id, owner, run_id, run_id))
        if existing.get("state") == "completed":
            raise UserError("run_completed", "Run %s already completed. Start a new run with --plan." % run_id)
        stored = load_plan_file(os.path.join(path, "plan.json"))
        if plan is not None and plan != stored:
            raise UserError("plan_mismatch", "Run %s was started with a different plan. Omit --plan to resume it "
                            "as it was, or pick a new --run-id." % run_id)
        resolve_backends(stored, available(stored, None), None)  # refuses a backend this host has lost since
        result = spawn_supervisor(root, run_id, path)
        result["resumed"] = True
        _print(result)
        return 0
    if plan is None:
        raise UserError("unknown_run", "Run %s does not exist under %s; give --plan to start it." % (run_id, root))
    try:
        os.makedirs(os.path.join(path, "games"), exist_ok=False)
    except FileExistsError:
        raise UserError("run_exists", "Run directory %s exists but has no state.json; pick another --run-id." % path) from None
    atomic.write_json(os.path.join(path, "plan.json"), plan)
    run_state.save(path, run_state.new_state(run_id, plan))
    if scheduler.kind_of_plan(plan) == "slurm":
        from . import slurm_run
        _print(slurm_run.start(root, run_id, path, plan))
        return 0
    result = spawn_supervisor(root, run_id, path)
    result["resumed"] = False
    _print(result)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    root = _root(args)
    run_id = run_state.resolve_run(root, _run_arg(args))
    path = run_dir(root, run_id)
    if scheduler.kind_of_run(path) == "slurm":
        from . import slurm_run
        _print(slurm_run.status(path))
        return 0
    st = run_state.load(path)
    alive = run_state.supervisor_alive(path)
    view = run_state.status_view(st, alive)
    if not alive:
        _freshen_from_trainers(view, st, path)
    _print(view)
    return 0


def _freshen_from_trainers(view: Dict[str, Any], st: Dict[str, Any], path: str) -> None:
    """With no supervisor, state.json stops at its last tick, but trainers it left running keep
    training: report their newest metrics and whether each process still lives."""
    for g in view["games"]:
        if g["state"] != "running":
            continue
        recorded = st["games"][g["game"]]
        g["trainer_alive"] = procs.is_same_process(recorded.get("pid"), recorded.get("pid_start"))
        latest = trainer_files.latest_metrics(game_dir(path, g["game"]))
        if latest:
            g.update(trainer_files.progress_fields(latest, g["last_progress_ts"]))


def cmd_runs(args: argparse.Namespace) -> int:
    root = _root(args)
    rows: List[Dict[str, Any]] = []
    for run_id in list_run_ids(root):
        path = run_dir(root, run_id)
        st = run_state.load(path)
        if st is None:
            continue
        # A running SLURM run is driven by SLURM itself, so it counts as live (PROTOCOL.md).
        slurm = st.get("scheduler") == "slurm"
        alive = st.get("state") == "running" if slurm else run_state.supervisor_alive(path)
        rows.append({"run_id": run_id, "plan_name": st.get("plan_name"), "state": st.get("state"),
                     "started_ts": st.get("started_ts"), "supervisor_alive": alive,
                     "scheduler": "slurm" if slurm else "local"})
    rows.sort(key=lambda r: (r["started_ts"] or 0, r["run_id"]), reverse=True)
    _print({"runs": rows})
    return 0


def cmd_attach(args: argparse.Namespace) -> int:
    from .attach import attach
    root = _root(args)
    run_id = run_state.resolve_run(root, _run_arg(args))
    return attach(run_dir(root, run_id), run_id, args.from_seq, args.follow)


def cmd_stop(args: argparse.Namespace) -> int:
    from .stopper import default_grace_s, stop_without_supervisor
    root = _root(args)
    run_id = run_state.resolve_run(root, _run_arg(args))
    path = run_dir(root, run_id)
    st = run_state.load(path)
    if st["state"] != "running":
        _print({"run_id": run_id, "state": st["state"], "supervisor_alive": run_state.supervisor_alive(path),
                "note": "run is not running; nothing to stop"})
        return 0
    if scheduler.kind_of_run(path) == "slurm":
        from . import slurm_run
        _print(slurm_run.stop(path))
        return 0
    grace_s = default_grace_s() if args.grace is None else args.grace
    if not run_state.supervisor_alive(path):
        _print(stop_without_supervisor(path, grace_s))
        return 0
    # Without --grace the supervisor keeps the grace it was started with.
    control.submit(path, {"action": "stop", "grace_s": args.grace})
    if not args.wait:
        _print({"run_id": run_id, "state": "stopping", "supervisor_alive": True})
        return 0
    wait_s = grace_s + 30
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not run_state.supervisor_alive(path):
            st = run_state.load(path)
            _print({"run_id": run_id, "state": st["state"], "supervisor_alive": False})
            return 0
        time.sleep(0.2)
    raise UserError("stop_timeout", "Run %s did not stop within %.0f s. Check `status` and supervisor.log." % (run_id, wait_s))


def cmd_models(args: argparse.Namespace) -> int:
    from .models_index import list_models
    root = _root(args)
    run_id = _run_arg(args)
    if run_id is not None:
        run_state.resolve_run(root, run_id)
    _print({"models": list_models(root, run_id)})
    return 0


def _control_target(args: argparse.Namespace) -> str:
    root = _root(args)
    run_id = run_state.resolve_run(root, _run_arg(args))
    return run_dir(root, run_id)


def _submit(path: str, request: Dict[str, Any]) -> int:
    st = run_state.load(path)
    if st["state"] != "running":
        raise UserError("run_not_running", "Run %s is %s; resume it with `start --run-id %s` first." % (
            st["run_id"], st["state"], st["run_id"]))
    name = control.submit(path, request)
    alive = run_state.supervisor_alive(path)
    out = dict(request, run_id=st["run_id"], request=name, supervisor_alive=alive)
    if not alive:
        out["note"] = "the supervisor is not running; the request applies when the run is resumed"
    _print(out)
    return 0


def cmd_pause_resume(args: argparse.Namespace) -> int:
    path = _control_target(args)
    plan = load_plan_file(os.path.join(path, "plan.json"))
    if game_by_name(plan, args.game) is None:
        raise UserError("unknown_game", "Game %s is not in this run's plan (games: %s)." % (
            args.game, ", ".join(g["game"] for g in plan["games"])))
    if scheduler.kind_of_plan(plan) == "slurm":
        from . import slurm_run
        _print((slurm_run.pause if args.command == "pause" else slurm_run.resume)(path, args.game))
        return 0
    return _submit(path, {"action": args.command, "game": args.game})


def cmd_set_slots(args: argparse.Namespace) -> int:
    if args.slots < 1 or args.slots > 256:
        raise UserError("bad_arguments", "Slots must be from 1 to 256 (got %d)." % args.slots)
    path = _control_target(args)
    if scheduler.kind_of_run(path) == "slurm":
        from . import slurm_run
        _print(slurm_run.set_slots(path, args.slots))
        return 0
    return _submit(path, {"action": "set_slots", "slots": args.slots})


def cmd_sync(args: argparse.Namespace) -> int:
    from .slurm_sync import sync
    path = _control_target(args)
    st = sync(path)
    _print({"run_id": st["run_id"], "state": st["state"], "last_seq": st.get("last_seq", 0),
            "slurm_reachable": st.get("slurm_reachable")})
    return 0


def cmd_after_run(args: argparse.Namespace) -> int:
    from . import after_run
    path = _control_target(args)
    if args.status:
        _print(after_run.read(path) or {"state": "none"})
        return 0
    _print(after_run.run(path, sys.stdin.read(after_run.MAX_COMMAND_CHARS + 1), args.timeout))
    return 0


def cmd_slurm_gpu_sample(args: argparse.Namespace) -> int:
    from .slurm_gpu import sample_loop
    return sample_loop(args.out, args.node, args.job, args.interval)


def cmd_supervise(args: argparse.Namespace) -> int:
    from .supervisor import main as supervise
    return supervise(_root(args), validate_run_id(args.run_id))


# ---- parser -------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gantry_remote", description="Gantry remote CLI (JSON output).")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    def command(name: str, func: Any, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--root", help="Gantry root directory (default ~/.gantry)")
        p.add_argument("--json", action="store_true", help="accepted for clarity; output is always JSON")
        p.set_defaults(func=func)
        return p

    p = command("doctor", cmd_doctor, "check this host")
    p.add_argument("--slurm", action="store_true", help="also check its SLURM cluster (runs a one-minute test job)")
    p.add_argument("--partition", help="the partition the instance submits to")
    p.add_argument("--scheduler", help="with --slurm: the plan's scheduler block (JSON); the test job asks for what each game's "
                   "job asks for (partition, account, QoS, GPUs, CPUs, memory, extra lines)")
    p.add_argument("--no-test-job", dest="no_test_job", action="store_true", help="with --slurm: skip the test job")
    p.add_argument("--test-job-timeout", dest="test_job_timeout", type=float, default=90.0,
                   help="with --slurm: seconds to wait for the test job before cancelling it")
    p = command("start", cmd_start, "start a run from a plan, or resume one")
    p.add_argument("--plan")
    p.add_argument("--run-id", dest="run_id")
    p.add_argument("--atari-backend", dest="atari_backend", choices=("ale", "envpool"),
                   help="backend for the plan's Atari games that name none (default: ale, else envpool)")
    p = command("status", cmd_status, "state of a run (default: newest)")
    p.add_argument("--run")
    command("runs", cmd_runs, "all runs, newest first")
    p = command("attach", cmd_attach, "print journal events from a seq, optionally following")
    p.add_argument("--run")
    p.add_argument("--from-seq", dest="from_seq", type=int, default=1)
    p.add_argument("--follow", action="store_true")
    p = command("stop", cmd_stop, "stop a run (trainers checkpoint first)")
    p.add_argument("--run")
    p.add_argument("--wait", action="store_true")
    p.add_argument("--grace", type=float, help="seconds between SIGTERM and SIGKILL (default: the supervisor's, 30)")
    p = command("models", cmd_models, "exported models and checkpoints")
    p.add_argument("--run")
    for name in ("pause", "resume"):
        p = command(name, cmd_pause_resume, "%s one game of a running run" % name)
        p.add_argument("--run", required=True)
        p.add_argument("--game", required=True)
    p = command("set-slots", cmd_set_slots, "change how many games train at once")
    p.add_argument("--run", required=True)
    p.add_argument("slots", type=int)
    p = command("sync", cmd_sync, "SLURM runs: journal what the jobs and SLURM report, then exit")
    p.add_argument("--run", required=True)
    p = command("after-run", cmd_after_run, "run the instance's after-run command (on stdin) once for an ended run")
    p.add_argument("--run", required=True)
    p.add_argument("--status", action="store_true", help="only print the after-run record")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds before the command is killed")
    p = command("slurm-gpu-sample", cmd_slurm_gpu_sample, argparse.SUPPRESS)  # inside a SLURM job (slurm_gpu.py)
    p.add_argument("--out", required=True)
    p.add_argument("--node", required=True)
    p.add_argument("--job", required=True)
    p.add_argument("--interval", type=float, default=10.0)
    p = command("supervise", cmd_supervise, argparse.SUPPRESS)
    p.add_argument("--run-id", dest="run_id", required=True)
    return parser


def main(argv: List[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "func", None):
            raise UserError("bad_arguments", "Missing command. Commands: doctor, start, status, runs, attach, "
                            "stop, models, pause, resume, set-slots, sync, after-run.")
        return int(args.func(args) or 0)
    except UserError as e:
        _print({"error": {"code": e.code, "message": e.message}})
        return 2
    except BrokenPipeError:
        return 0
