"""The plan's `scheduler` block for SLURM, and the batch script that runs one game per array task.

Design (PROTOCOL.md, "Scheduler seam"): a run is ONE job array, task i = the plan's i-th game in
queue order, `--array=0-(n-1)%slots`. SLURM enforces the slots (the `%N` throttle; set-slots is
`scontrol update ArrayTaskThrottle=N`), so nothing long-lived has to decide when to submit.

Each task runs the existing trainer with --resume under `--requeue --signal=B:USR1@grace`:
- USR1 (time limit near): SIGTERM the trainer (it checkpoints and exits), then requeue this job
  itself (`scontrol requeue`), at most `max_requeues` times (SLURM_RESTART_COUNT) - SLURM never
  requeues a job that reaches its time limit on its own.
- SIGTERM (preemption, node going down, scancel, pause): forwarded; the trainer checkpoints.
- trainer crash: requeue while fewer than the plan's restart.max_restarts crashes happened.
- every start and end is one JSON line in games/<g>/slurm-attempts.jsonl, and the EXIT trap runs
  `gantry_remote sync`, which turns those lines and SLURM's view into journal events.
"""
import re
import shlex
import sys
from typing import Any, Dict, List

from .knobs import env_float
from .paths import UserError, package_parent
from .plan import game_by_name, queue_order, trainer_argv, trainer_command
from .slurm_gpu import SAMPLE_FILE

ATTEMPTS_FILE = "slurm-attempts.jsonl"
_NAME_RE = re.compile(r"^[A-Za-z0-9_.:+-]{1,128}$")
_GRES_RE = re.compile(r"^[A-Za-z0-9_]+(:[A-Za-z0-9_.-]+)?(:\d+)?(,[A-Za-z0-9_]+(:[A-Za-z0-9_.-]+)?(:\d+)?)*$")
_EXTRA_RE = re.compile(r"^--?[A-Za-z][A-Za-z0-9-]*(=[^\n\r]*)?$")
# Options Gantry sets itself: an extra line may not change how a game maps onto the array.
_RESERVED = ("--array", "-a", "--requeue", "--no-requeue", "--signal", "--output", "-o", "--error", "-e",
             "--open-mode", "--job-name", "-J", "--parsable", "--wrap")
DEFAULTS = {"signal_grace_s": 120, "max_requeues": 50}


def _bad(message: str) -> UserError:
    return UserError("bad_plan", "scheduler: " + message + " Fix the SLURM settings and start again.")


def _optional_name(block: Dict[str, Any], key: str) -> Any:
    value = block.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise _bad("%s %r is not a SLURM name (letters, digits, '_', '.', ':', '+', '-')." % (key, value))
    return value


def _optional_int(block: Dict[str, Any], key: str, low: int, high: int) -> Any:
    value = block.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _bad("%s must be a whole number from %d to %d (got %r)." % (key, low, high, value))
    return value


def validate_options(block: Any) -> Dict[str, Any]:
    """The plan's {"kind": "slurm", …} block, normalised; UserError names what is wrong."""
    if not isinstance(block, dict) or block.get("kind") not in ("local", "slurm"):
        raise _bad("\"scheduler\" must be {\"kind\": \"local\"} or {\"kind\": \"slurm\", …}.")
    if block["kind"] == "local":
        return {"kind": "local"}
    out: Dict[str, Any] = {"kind": "slurm"}
    for key in ("partition", "account", "qos"):
        out[key] = _optional_name(block, key)
    out["time_limit_min"] = _optional_int(block, "time_limit_min", 1, 525600)
    out["cpus_per_task"] = _optional_int(block, "cpus_per_task", 1, 1024)
    out["mem_mb"] = _optional_int(block, "mem_mb", 1, 64 * 1024 * 1024)
    gres = block.get("gres")
    if gres is not None and gres != "":
        if not isinstance(gres, str) or not _GRES_RE.match(gres):
            raise _bad("gres %r is not a GRES request like gpu:1, gpu:a100:1 or shard:1." % (gres,))
        out["gres"] = gres
    else:
        out["gres"] = None
    extra = block.get("extra_sbatch", [])
    if not isinstance(extra, list) or not all(isinstance(x, str) for x in extra):
        raise _bad("extra_sbatch must be a list of options like \"--constraint=a100\".")
    for line in extra:
        if not _EXTRA_RE.match(line.strip()):
            raise _bad("extra_sbatch line %r is not one sbatch option (like --constraint=a100)." % line)
        if line.strip().split("=", 1)[0] in _RESERVED:
            raise _bad("extra_sbatch may not set %s: Gantry sets it to run and requeue the games." % line.split("=", 1)[0])
    out["extra_sbatch"] = [x.strip() for x in extra]
    grace = _optional_int(block, "signal_grace_s", 10, 3600)
    out["signal_grace_s"] = DEFAULTS["signal_grace_s"] if grace is None else grace
    requeues = _optional_int(block, "max_requeues", 0, 10000)
    out["max_requeues"] = DEFAULTS["max_requeues"] if requeues is None else requeues
    return out


def sbatch_lines(options: Dict[str, Any], run_id: str, run_path: str, games: int, slots: int) -> List[str]:
    """The #SBATCH lines: Gantry's own first, then the site's settings, then the extra lines."""
    lines = [
        "--job-name=gantry-%s" % run_id,
        "--array=0-%d%%%d" % (games - 1, max(1, min(slots, games))),
        "--requeue",
        "--signal=B:USR1@%d" % options["signal_grace_s"],
        "--output=%s/slurm/task-%%a.out" % run_path,
        "--open-mode=append",
        "--ntasks=1",
    ]
    return lines + resource_lines(options)


def resource_lines(options: Dict[str, Any]) -> List[str]:
    """What each job asks the site for (partition, account, QoS, time, CPUs, GRES, memory, extra
    lines): the run's jobs and the doctor's test job ask alike."""
    lines = []
    for key, flag in (("partition", "--partition"), ("account", "--account"), ("qos", "--qos"),
                      ("time_limit_min", "--time"), ("cpus_per_task", "--cpus-per-task"), ("gres", "--gres")):
        if options.get(key) is not None:
            lines.append("%s=%s" % (flag, options[key]))
    if options.get("mem_mb") is not None:
        lines.append("--mem=%dM" % options["mem_mb"])
    return lines + list(options.get("extra_sbatch", []))


def job_script(plan: Dict[str, Any], run_id: str, run_path: str, root: str) -> str:
    options = plan["scheduler"]
    order = queue_order(plan)
    q = shlex.quote
    command = trainer_command(root)
    cases = []
    for index, name in enumerate(order):
        game_dir = "%s/games/%s" % (run_path, name)
        argv = trainer_argv(command, game_by_name(plan, name), game_dir, resume=True)
        cases.append("  %d) GAME=%s; TRAINER=(%s) ;;" % (index, q(name), " ".join(q(a) for a in argv)))
    header = ["#!/bin/bash"] + ["#SBATCH " + line for line in sbatch_lines(options, run_id, run_path, len(order), plan["slots"])]
    sync = [sys.executable, "-m", "gantry_remote", "sync", "--root", root, "--run", run_id]
    sampler = [sys.executable, "-m", "gantry_remote", "slurm-gpu-sample", "--interval", str(plan["gpu_sample_s"])]
    budget_sync = ""
    if plan.get("budget"):
        # The budget is counted and enforced by sync (slurm_budget.py): with the desktop asleep, the jobs run it.
        budget_sync = "( while sleep %d; do %s >/dev/null 2>&1; done ) < /dev/null > /dev/null 2>&1 &\nBUDGET_SYNC=$!" % (
            _budget_sync_s(), " ".join(q(a) for a in sync))
    return "\n".join(header) + _BODY % {
        "budget_sync": budget_sync,
        "cases": "\n".join(cases),
        "run_path": q(run_path),
        "pythonpath": q(package_parent()),
        "max_requeues": options["max_requeues"],
        "max_crashes": plan["restart"]["max_restarts"],
        "sync": " ".join(q(a) for a in sync),
        "sampler": " ".join(q(a) for a in sampler),
        "gpu_file": SAMPLE_FILE,
        "attempts": ATTEMPTS_FILE,
    }


def _budget_sync_s() -> int:
    """How often each job of a run with a budget syncs (GANTRY_BUDGET_SYNC_S, default 300 s)."""
    return max(1, int(env_float("GANTRY_BUDGET_SYNC_S", 300.0)))


# The job script proper. Bash runs traps only between commands, so the trainer runs in the
# background and the script waits for it: a signal then interrupts `wait`, the trap forwards it,
# and the loop waits again until the trainer has written its checkpoint and exited.
_BODY = r"""
set -u
RUN=%(run_path)s
export PYTHONPATH=%(pythonpath)s${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
case "${SLURM_ARRAY_TASK_ID:-}" in
%(cases)s
  *) echo "gantry: array task '${SLURM_ARRAY_TASK_ID:-}' has no game in this run" >&2; exit 1 ;;
esac
GAME_DIR="$RUN/games/$GAME"
ATTEMPTS="$GAME_DIR/%(attempts)s"
RESTARTS="${SLURM_RESTART_COUNT:-0}"
JOB="${SLURM_JOB_ID:-0}"
NODE="$(printf '%%s' "${SLURMD_NODENAME:-unknown}" | tr -c 'A-Za-z0-9._-' '_')"
mkdir -p "$GAME_DIR"
SIGNALLED=""
CHILD=""

record() {  # one JSON line per start or end of this task's attempts
  printf '{"event":"%%s","job":%%s,"restart":%%s,"node":"%%s","pid":%%s,"exit_code":%%s,"resumed":%%s,"why":"%%s","ts":%%s}\n' \
    "$1" "$JOB" "$RESTARTS" "$NODE" "${CHILD:-null}" "${2:-null}" "$RESUMED" "${3:-}" "$(date +%%s)" >> "$ATTEMPTS"
}
why_killed() {  # slurmstepd's own words before it signals: "*** JOB 5 ON n1 CANCELLED AT … DUE TO NODE FAILURE …"
  tail -c 4096 "$RUN/slurm/task-$SLURM_ARRAY_TASK_ID.out" 2>/dev/null \
    | grep -o 'JOB [0-9]* ON [^ ]* CANCELLED AT [^ ]*\( DUE TO [A-Z ]*[A-Z]\)\?' \
    | tail -n 1 | sed -n 's/.* DUE TO //p; t; s/.*CANCELLED.*/CANCELLED/p'
}
on_signal() {
  SIGNALLED="$1"
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; fi
}
trap 'on_signal time_limit' USR1
trap 'on_signal terminated' TERM
SAMPLER=""
BUDGET_SYNC=""
stop_helpers() { [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null; [ -n "$BUDGET_SYNC" ] && kill "$BUDGET_SYNC" 2>/dev/null; }
trap 'stop_helpers; %(sync)s >/dev/null 2>&1 || true' EXIT

if [ -f "$GAME_DIR/completed.json" ]; then exit 0; fi
RESUMED=false; [ -s "$GAME_DIR/ckpt/manifest.json" ] && RESUMED=true
echo "=== gantry: job $JOB restart $RESTARTS on $NODE at $(date '+%%F %%T')" >> "$GAME_DIR/train.log"
"${TRAINER[@]}" >> "$GAME_DIR/train.log" 2>&1 < /dev/null &
CHILD=$!
record start
# This job's GPUs, sampled into the game folder for the dashboard's gauges (slurm_gpu.py).
%(sampler)s --out "$GAME_DIR/%(gpu_file)s" --node "$NODE" --job "$JOB" >/dev/null 2>&1 < /dev/null &
SAMPLER=$!
%(budget_sync)s
while :; do
  wait "$CHILD"; RC=$?
  kill -0 "$CHILD" 2>/dev/null || break
done

requeue() {  # recorded first: the requeue itself SIGTERMs this script
  record "$1" "$RC"
  scontrol requeue "$JOB" && exit 0
  record requeue_failed "$RC"; exit 1
}
if [ -f "$GAME_DIR/completed.json" ]; then record completed "$RC"; exit 0; fi
case "$SIGNALLED" in
  time_limit)
    if [ "$RESTARTS" -lt %(max_requeues)d ]; then requeue time_limit; fi
    record time_limit_exhausted "$RC"; exit 1 ;;
  terminated) record terminated "$RC" "$(why_killed)"; exit 0 ;;
esac
CRASHES=$(grep -c '"event":"crash"' "$ATTEMPTS" 2>/dev/null || true)
if [ "${CRASHES:-0}" -lt %(max_crashes)d ]; then requeue crash; fi
record crash_exhausted "$RC"; exit 1
"""
