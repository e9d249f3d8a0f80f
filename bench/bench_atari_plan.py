"""The seed's production plan (10 Atari games, 6 slots, 256 envs each) for a fixed slice, detached.

    python3 bench/bench_atari_plan.py --root bench/results/plan --minutes 15      # returns at once
    python3 bench/bench_atari_plan.py --report bench/results/plan [--wait [SECONDS]]   # any time later
    python3 bench/bench_atari_plan.py --smoke --root /tmp/x                        # CPU: 2 games on 1 slot, tiny settings

Starting runs resources/plans/seed-10-games.json unchanged (backend chosen by `start
--atari-backend`, ale by default; GPU samples every --gpu-sample-s instead of the plan's 10 s)
under a real supervisor, and leaves a detached keeper process behind which samples /proc/stat
every few seconds into <root>/cpu.jsonl and stops the run when the slice is over. With more games
than slots (10 on 6) the queued games would never train inside the slice, so at half time the
keeper pauses the running games but the longest ones (`pause`, a real control request: the
trainer checkpoints and exits), and the supervisor starts the queued games in the freed slots:
every game gets measured, the longest two for the whole slice. --no-rotate keeps the plan's order.

The report (markdown on stdout, raw JSON in <root>/report.json) gives per game: steps/s and
episodes/hour over its own steady window (first metrics line, after its first update, to its last),
the cores it ran on; in total: env steps/s, CPU utilisation from /proc/stat deltas, GPU utilisation
from the supervisor's `gpu` events (nvidia-smi); and the projected time to finish the whole plan:
each game's target episodes / its episodes per hour, placed on the plan's slots in the supervisor's
queue order (longest first, a game takes the first free slot), against the seed's < 72 h goal, and
the same for CleanRL's budget of 10M steps per game. Episodes/hour from a slice of early training
is a rough guide: most games' episodes lengthen as the agent learns.
"""
import argparse
import heapq
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_gpu_share as runs  # noqa: E402
import detached_run  # noqa: E402

sys.path.insert(0, str(runs.REMOTE))
from gantry_remote.plan import queue_order, validate_plan  # noqa: E402

SEED_PLAN = runs.ROOT / "resources" / "plans" / "seed-10-games.json"
GOAL_HOURS = 72.0
CLEANRL_STEPS = 10_000_000
EPISODE_CAP_STEPS = 108_000 // 4  # ale-py ends a game at 108,000 frames (max_num_frames_per_episode), frame skip 4
KEEPER = "keeper.json"
CPU_SAMPLES = "cpu.jsonl"
MEASURED_LINES = 3  # metrics lines a game needs before the keeper pauses or stops it
OVERTIME_S = 600.0  # the most the keeper waits past a deadline for that
ENDED_BY_ITSELF = "the run ended by itself"
SMOKE_ARGS = {"num_envs": 4, "num_steps": 8, "minibatch_size": 32, "update_epochs": 1, "device": "cpu",
              "metrics_seconds": 1, "thumbnail_seconds": 0, "checkpoint_minutes": 60}


# ---- the plan and the slice -------------------------------------------------------------------

def parse_trainer_args(items: List[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit("--trainer-arg wants KEY=VALUE, got %r" % item)
        out[key] = runs.trainer_value(key, value)
    return out


def build_plan(path: Path, games: Optional[List[str]], slots: Optional[int], trainer_args: Dict[str, Any],
               gpu_sample_s: float) -> Dict[str, Any]:
    plan = json.loads(path.read_text())
    if games:
        known = {g["game"] for g in plan["games"]}
        unknown = [g for g in games if g not in known]
        if unknown:
            raise SystemExit("--games: %s not in %s (it has %s)" % (", ".join(unknown), path, ", ".join(sorted(known))))
        plan["games"] = [g for g in plan["games"] if g["game"] in games]
    if slots is not None:
        plan["slots"] = slots
    for g in plan["games"]:
        g["trainer_args"] = dict(g.get("trainer_args") or {}, **trainer_args)
    plan["gpu_sample_s"] = gpu_sample_s
    return plan


def rotation(plan: Dict[str, Any]) -> List[str]:
    """The games to pause at half time so that the queued ones get a turn: the running ones in queue
    order, but the first (2 x slots - games), which keep training for the whole slice."""
    order, slots = queue_order(validate_plan(plan)), plan["slots"]
    if len(order) <= slots:
        return []
    return order[max(0, 2 * slots - len(order)):slots]


def start(opts: argparse.Namespace) -> Dict[str, Any]:
    games = opts.games.split(",") if opts.games else None
    plan = build_plan(Path(opts.plan), games, opts.slots, parse_trainer_args(opts.trainer_arg), opts.gpu_sample_s)
    pause = rotation(plan) if opts.rotate else []
    root = Path(opts.root).resolve()  # the supervisor CLI runs elsewhere: a relative root would move
    manifest = detached_run.start(root, plan, opts.atari_backend, {
        "bench": "atari_plan", "minutes": opts.minutes, "sample_s": opts.sample_s, "plan_file": str(opts.plan),
        "rotate_games": pause, "rotate_after_s": opts.minutes * 30.0 if pause else None, "os_cpus": os.cpu_count()})
    with open(root / "keeper.log", "ab") as log:
        keeper = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--keep", str(root)],
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True, close_fds=True)
    print("started run %s (%d games, %d slots) for %.1f min; keeper pid %d%s.\nRead it with: python3 bench/bench_atari_plan.py --report %s"
          % (manifest["run_id"], len(plan["games"]), plan["slots"], opts.minutes, keeper.pid,
             "; at half time it pauses %s so the queued games train" % ", ".join(pause) if pause else "", root), flush=True)
    return manifest


# ---- the keeper: CPU samples, the half-time rotation, the end of the slice ---------------------

def cpu_times() -> Tuple[int, int]:
    """(busy, total) jiffies over all cores since boot, from /proc/stat's first line."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    return sum(fields) - fields[3] - fields[4], sum(fields)


def measured(root: Path, manifest: Dict[str, Any], games: List[str]) -> bool:
    """Each of `games` has written MEASURED_LINES metrics lines: a steady window to rate it by."""
    return all(len(detached_run.game_metrics(root, manifest, g)) >= MEASURED_LINES for g in games)


def games_in(root: Path, manifest: Dict[str, Any], state: str) -> List[str]:
    """The run's games in `state`, in the supervisor's queue order."""
    st = detached_run.run_state(root, manifest)
    return [name for name in st["order"] if st["games"][name]["state"] == state]


def keep(root: Path) -> int:
    """Rotate at half time and end at the slice's end, each once the games it stops have been measured
    (so a slow start-up cannot leave a game unrated), but never more than OVERTIME_S late. Whatever
    goes wrong here, the run is stopped: nothing may train on unwatched on a lent GPU machine."""
    manifest = detached_run.load(root, "atari_plan")
    keeper = {"pid": os.getpid(), "state": "running", "rotated_ts": None, "ended_ts": None, "why": None}
    detached_run.write_json(root / KEEPER, keeper)
    try:
        keeper["why"] = watch(root, manifest, keeper)
    except (Exception, SystemExit) as e:  # noqa: BLE001 - reported in keeper.json, and the run is stopped below
        keeper["why"] = "keeper failed: %s" % e
        print(keeper["why"], flush=True)
    keeper["ended_ts"] = time.time()
    detached_run.write_json(root / KEEPER, keeper)
    if keeper["why"] != ENDED_BY_ITSELF:  # trainers checkpoint on SIGTERM; 60 s before SIGKILL
        runs.cli(root, "stop", "--run", manifest["run_id"], "--wait", "--grace", "60")
    keeper["state"] = "done"
    detached_run.write_json(root / KEEPER, keeper)
    return 0


def watch(root: Path, manifest: Dict[str, Any], keeper: Dict[str, Any]) -> str:
    """Sample the CPU and rotate until the slice is over; return why it ended."""
    started, end = manifest["started_ts"], manifest["started_ts"] + manifest["minutes"] * 60.0

    def to_measure() -> List[str]:
        """Before the stop: the games still training and those the rotation let in (maybe not started yet)."""
        running = [g for g in games_in(root, manifest, "running") if g not in manifest["rotate_games"]]
        return running + [g for g in keeper.get("rotated_in", []) if g not in running]

    with open(root / CPU_SAMPLES, "a") as samples:
        while True:
            busy, total = cpu_times()
            samples.write(json.dumps({"ts": time.time(), "busy": busy, "total": total, "load1": os.getloadavg()[0]}) + "\n")
            samples.flush()
            now = time.time()
            if detached_run.run_state(root, manifest)["state"] != "running":
                return ENDED_BY_ITSELF
            rotate_at = started + (manifest["rotate_after_s"] or 0)
            if (manifest["rotate_games"] and keeper["rotated_ts"] is None and now >= rotate_at
                    and (now >= rotate_at + OVERTIME_S or measured(root, manifest, manifest["rotate_games"]))):
                keeper["rotated_in"] = games_in(root, manifest, "queued")[:len(manifest["rotate_games"])]
                for game in manifest["rotate_games"]:
                    try:
                        runs.cli(root, "pause", "--run", manifest["run_id"], "--game", game)
                    except SystemExit as e:  # e.g. it ended meanwhile: the others still rotate
                        print("could not pause %s: %s" % (game, e), flush=True)
                keeper["rotated_ts"] = now
                detached_run.write_json(root / KEEPER, keeper)
            elif now >= end and (now >= end + OVERTIME_S or (
                    (keeper["rotated_ts"] or not manifest["rotate_games"]) and measured(root, manifest, to_measure()))):
                return "slice over"
            left = end - time.time()
            time.sleep(max(0.2, min(manifest["sample_s"], left)) if left > 0 else manifest["sample_s"])


# ---- the report --------------------------------------------------------------------------------

def game_rates(rows: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Steps/s and episodes/hour from the first metrics line (after the first update) to the last."""
    if len(rows) < 2 or rows[-1]["ts"] <= rows[0]["ts"]:
        return None
    a, b = rows[0], rows[-1]
    dt = b["ts"] - a["ts"]
    return {"window_s": dt, "from_ts": a["ts"], "to_ts": b["ts"], "steps": b["global_step"], "episodes": b["episodes"],
            "sps": (b["global_step"] - a["global_step"]) / dt,
            "episodes_per_hour": (b["episodes"] - a["episodes"]) * 3600.0 / dt,
            "mean_return": b.get("mean_return")}


def trainer_cores(run_dir: Path, game: str) -> Optional[str]:
    """The cores the trainer reported in its first line ("... cores 0-2")."""
    path = run_dir / "games" / game / "train.log"
    if not path.exists():
        return None
    found = re.findall(r"\] training .* cores ([0-9,-]+)$", path.read_text(errors="replace"), re.M)
    return found[-1] if found else None


def hours_at_most(target_episodes: int, sps: float) -> float:
    """For a game none of whose episodes ended in the slice: no game outlasts ale-py's cap, so its envs
    together end at least sps / EPISODE_CAP_STEPS episodes a second. An upper bound, not an estimate."""
    return target_episodes * EPISODE_CAP_STEPS / sps / 3600.0


def schedule_hours(order: List[str], hours: Dict[str, Optional[float]], slots: int) -> Optional[float]:
    """Makespan of the plan: games in queue order, each on the first slot to come free."""
    if any(hours.get(g) is None for g in order):
        return None
    free = [0.0] * slots
    heapq.heapify(free)
    end = 0.0
    for game in order:
        t = heapq.heappop(free) + hours[game]
        end = max(end, t)
        heapq.heappush(free, t)
    return end


def cpu_utilisation(root: Path, t0: float, t1: float) -> Optional[Dict[str, float]]:
    path = root / CPU_SAMPLES
    if not path.exists():
        return None
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip().endswith("}")]
    rows = [r for r in rows if t0 <= r["ts"] <= t1]
    if len(rows) < 2 or rows[-1]["total"] <= rows[0]["total"]:
        return None
    a, b = rows[0], rows[-1]
    return {"busy": (b["busy"] - a["busy"]) / (b["total"] - a["total"]), "from_ts": a["ts"], "to_ts": b["ts"],
            "load1_mean": sum(r["load1"] for r in rows) / len(rows), "samples": len(rows)}


def gpu_utilisation(events: List[Dict[str, Any]], t0: float, t1: float) -> Dict[str, Any]:
    samples = [e for e in events if e["type"] == "gpu" and t0 <= e["ts"] <= t1]
    if not samples:
        why = [e.get("reason") for e in events if e["type"] == "gpu_unavailable"]
        return {"samples": 0, "why": why[-1] if why else "no gpu events in the slice"}
    utils = sorted(sum(g.get("util") or 0 for g in e["gpus"]) / len(e["gpus"]) for e in samples)
    return {"samples": len(samples), "util_mean": sum(utils) / len(utils), "util_median": utils[len(utils) // 2],
            "util_max": utils[-1], "mem_used_max_mib": max(max(g.get("mem_used") or 0 for g in e["gpus"]) for e in samples),
            "gpus": samples[-1]["gpus"][0].get("name")}


def report(root: Path) -> Dict[str, Any]:
    manifest = detached_run.load(root, "atari_plan")
    plan = validate_plan(json.loads((root / "plan.json").read_text()))
    keeper = detached_run.read_json(root / KEEPER) if (root / KEEPER).exists() else {}
    now = time.time()
    t0 = manifest["started_ts"]
    t1 = keeper.get("ended_ts") or now
    events = detached_run.events(root, manifest)
    run_dir = detached_run.run_path(root, manifest)
    games: Dict[str, Dict[str, Any]] = {}
    for g in plan["games"]:
        name = g["game"]
        rows = [r for r in detached_run.game_metrics(root, manifest, name) if r["ts"] <= t1]
        rates = game_rates(rows)
        started = [e["ts"] for e in events if e["type"] == "game_started" and e["game"] == name]
        games[name] = dict(rates or {}, measured=rates is not None, target_episodes=g["target_episodes"],
                           plan_est_hours=g.get("est_hours"),
                           cores=trainer_cores(run_dir, name),
                           start_up_s=rows[0]["ts"] - started[0] if rows and started else None)
        eph, sps = games[name].get("episodes_per_hour"), games[name].get("sps")
        games[name]["hours_to_target"] = g["target_episodes"] / eph if eph else None
        games[name]["hours_to_target_at_most"] = hours_at_most(g["target_episodes"], sps) if sps and not eph else None
        games[name]["hours_to_10m_steps"] = CLEANRL_STEPS / sps / 3600.0 if sps else None
    order = queue_order(plan)
    measured = [v for v in games.values() if v["measured"]]
    total_steps = sum(v["steps"] for v in measured)
    out = {
        "root": str(root), "run_id": manifest["run_id"], "machine": runs.machine(), "slots": plan["slots"],
        "minutes_planned": manifest["minutes"], "minutes_elapsed": (t1 - t0) / 60.0,
        "slice_state": keeper.get("state", "no keeper yet"), "slice_ended_because": keeper.get("why"),
        "rotated_after_min": (keeper["rotated_ts"] - t0) / 60.0 if keeper.get("rotated_ts") else None,
        "rotated_games": manifest["rotate_games"], "rotated_in": keeper.get("rotated_in", []),
        "total_steps": total_steps, "total_sps_slice": total_steps / max(t1 - t0, 1e-9),
        "total_sps_first_phase": sum(v["sps"] for n, v in games.items() if v["measured"] and n in order[:plan["slots"]]),
        "cpu": cpu_utilisation(root, t0, t1), "gpu": gpu_utilisation(events, t0, t1),
        "projected_hours_targets": schedule_hours(order, {n: v["hours_to_target"] for n, v in games.items()}, plan["slots"]),
        "projected_hours_targets_at_most": schedule_hours(order, {
            n: v["hours_to_target"] or v["hours_to_target_at_most"] for n, v in games.items()}, plan["slots"]),
        "capped_games": [n for n in order if games[n]["hours_to_target_at_most"] is not None],
        "plan_estimate_hours": schedule_hours(order, {n: v["plan_est_hours"] for n, v in games.items()}, plan["slots"]),
        "projected_hours_10m_steps": schedule_hours(order, {n: v["hours_to_10m_steps"] for n, v in games.items()}, plan["slots"]),
        "goal_hours": GOAL_HOURS, "queue_order": order, "games": games,
    }
    if keeper.get("state") == "running" and not _alive(keeper.get("pid")):
        out["slice_state"] = "keeper died (see %s): the run may still be going; stop it with `gantry_remote stop`" % (root / "keeper.log")
    return out


def _alive(pid: Optional[int]) -> bool:
    try:
        os.kill(int(pid or 0), 0)
        return bool(pid)
    except (OSError, ValueError):
        return False


def _num(v: Optional[float], fmt: str = "%.0f") -> str:
    return "-" if v is None else fmt % v


def markdown(r: Dict[str, Any]) -> str:
    cpu, gpu = r["cpu"] or {}, r["gpu"]
    lines = ["Run %s — %s; %d slots; slice %.1f of %.1f min (%s%s)%s." % (
        r["run_id"], r["machine"], r["slots"], r["minutes_elapsed"], r["minutes_planned"], r["slice_state"],
        ": " + r["slice_ended_because"] if r["slice_ended_because"] else "",
        "; paused %s after %.1f min so that %s could train" % (
            ", ".join(r["rotated_games"]), r["rotated_after_min"], ", ".join(r["rotated_in"]))
        if r["rotated_after_min"] else ""), "",
        "| game | cores | start-up s | steps | steps/s | episodes | episodes/hour | mean return | target | h to target "
        "(plan's estimate) | h to 10M steps |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in r["queue_order"]:
        g = r["games"][name]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d | %s (%s) | %s |" % (
            name, g["cores"] or "-", _num(g["start_up_s"]), _num(g.get("steps")), _num(g.get("sps")), _num(g.get("episodes")),
            _num(g.get("episodes_per_hour")), _num(g.get("mean_return"), "%.1f"), g["target_episodes"],
            _num(g["hours_to_target"], "%.1f") if g.get("hours_to_target_at_most") is None
            else "≤ %.0f (cap)" % g["hours_to_target_at_most"],
            _num(g["plan_est_hours"], "%.1f"), _num(g["hours_to_10m_steps"], "%.2f")))
    lines += ["", "| measure | value |", "| --- | --- |",
              "| env steps/s, whole slice (start-up and rotation included) | %s |" % _num(r["total_sps_slice"]),
              "| env steps/s, first %d games, sum of steady rates | %s |" % (r["slots"], _num(r["total_sps_first_phase"])),
              "| CPU busy (/proc/stat, %d samples) | %s (load average %s) |" % (
                  cpu.get("samples", 0), _num(cpu.get("busy") and 100 * cpu["busy"], "%.0f %%"), _num(cpu.get("load1_mean"), "%.1f")),
              ("| GPU utilisation (nvidia-smi, %d samples) | mean %.0f %%, median %.0f %%, max %.0f %%; memory max %s MiB |" % (
                  gpu["samples"], gpu["util_mean"], gpu["util_median"], gpu["util_max"], _num(gpu["mem_used_max_mib"])))
              if gpu["samples"] else "| GPU utilisation | not measured: %s |" % gpu["why"],
              "| projected: whole plan to its episode targets | %s h (goal < %.0f h; the plan's own estimates give %s h) |" % (
                  _num(r["projected_hours_targets"], "%.1f"), r["goal_hours"], _num(r["plan_estimate_hours"], "%.1f")),
              "| projected: every game 10M steps (CleanRL's budget) | %s h |" % _num(r["projected_hours_10m_steps"], "%.1f")]
    if r["capped_games"]:
        lines.append("| projected: whole plan, with the episode cap's bound for %s (no game of theirs ended in the "
                     "slice; none lasts past %d steps) | ≤ %s h |" % (
                         ", ".join(r["capped_games"]), EPISODE_CAP_STEPS, _num(r["projected_hours_targets_at_most"], "%.1f")))
    return "\n".join(lines)


# ---- the CPU smoke run ------------------------------------------------------------------------

def smoke(root: Path) -> int:
    """Two real ale-py games on one slot, each stopped once measured: the start, the keeper's rotation
    and stop, the report."""
    opts = argparse.Namespace(plan=str(SEED_PLAN), games="Breakout,Pong", slots=1, minutes=0.1, sample_s=1.0,
                              gpu_sample_s=2.0, rotate=True, atari_backend="ale", root=str(root),
                              trainer_arg=["%s=%s" % kv for kv in SMOKE_ARGS.items()])
    start(opts)
    if not wait_for_keeper(root, 300):
        raise SystemExit("the smoke slice did not end within 300 s; see %s" % (root / "keeper.log"))
    return finish_report(root, None)


def wait_for_keeper(root: Path, timeout_s: float) -> bool:
    """Wait until the keeper has stopped the run, or timeout_s has passed; return whether it has."""
    deadline = time.monotonic() + timeout_s
    while True:
        keeper = detached_run.read_json(root / KEEPER) if (root / KEEPER).exists() else {}
        if keeper.get("state") == "done":
            return True
        if keeper and not _alive(keeper.get("pid")):
            raise SystemExit("the keeper (pid %s) died; see %s" % (keeper.get("pid"), root / "keeper.log"))
        if time.monotonic() > deadline:
            return False
        time.sleep(1)


def finish_report(root: Path, out: Optional[str]) -> int:
    r = report(root)
    detached_run.write_json(Path(out) if out else root / "report.json", r)
    started_by = detached_run.load(root, "atari_plan")["argv"]
    print("`python3 bench/bench_atari_plan.py %s`, read by `python3 bench/bench_atari_plan.py %s`\n" % (
        " ".join(shlex.quote(a) for a in started_by[1:]), " ".join(shlex.quote(a) for a in sys.argv[1:])))
    print(markdown(r))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="the bench's folder (start / --smoke)")
    parser.add_argument("--report", metavar="ROOT", help="read a started slice and print the report")
    parser.add_argument("--wait", type=float, nargs="?", const=float("inf"), metavar="SECONDS",
                        help="with --report: wait for the slice to end (at most SECONDS), then report")
    parser.add_argument("--out", help="with --report: write the raw JSON here (default ROOT/report.json)")
    parser.add_argument("--keep", metavar="ROOT", help=argparse.SUPPRESS)  # the detached keeper itself
    parser.add_argument("--smoke", action="store_true", help="CPU smoke run: Breakout and Pong on 1 slot, tiny settings")
    parser.add_argument("--plan", default=str(SEED_PLAN))
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--games", help="only these games of the plan (comma-separated)")
    parser.add_argument("--slots", type=int, help="override the plan's slots")
    parser.add_argument("--trainer-arg", action="append", default=[], metavar="KEY=VALUE", help="for every game, repeatable")
    parser.add_argument("--atari-backend", default="ale", choices=("ale", "envpool"))
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between /proc/stat samples")
    parser.add_argument("--gpu-sample-s", type=float, default=5.0, help="the supervisor's nvidia-smi interval")
    parser.add_argument("--no-rotate", dest="rotate", action="store_false")
    opts = parser.parse_args()
    if opts.keep:
        return keep(Path(opts.keep).resolve())
    if opts.report:
        if opts.wait is not None:
            wait_for_keeper(Path(opts.report).resolve(), opts.wait)
        return finish_report(Path(opts.report).resolve(), opts.out)
    if not opts.root:
        parser.error("give --root (a new folder for the run), or --report ROOT")
    if opts.smoke:
        return smoke(Path(opts.root).resolve())
    start(opts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
