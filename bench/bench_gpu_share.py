"""GPU sharing and placement, measured the way users run it: through the supervisor.

    python3 bench/bench_gpu_share.py --share                 # 1 GPU: six trainers alone, then together (MPS, time-sliced)
    python3 bench/bench_gpu_share.py --multi-gpu             # 2+ GPUs: 5 games x 2 seeds on every GPU vs GPU 0 only
    python3 bench/bench_gpu_share.py --mps-scaling           # 1 GPU: Breakout alone with and without MPS, then 2, 3, 6 under MPS
    python3 bench/bench_gpu_share.py --share --steps 4096 --device cpu --trainer-arg num_envs=8 --no-append   # CPU smoke

Every trainer is a real `gantry_remote train` process with the trainer's defaults, started by a real
supervisor (`gantry_remote start --plan`), so CUDA_VISIBLE_DEVICES placement and the run's MPS daemon
are the supervisor's own. Throughput is read from each game's metrics.jsonl: the env steps all of a
run's trainers made inside the window where every one of them was past its first metrics line
(start-up excluded), divided by that window. "Alone" is the same trainer by itself, steady part only.
Start-up is the time from a trainer's process start to its first metrics line.

Prints a table and appends it to BENCHMARKS.md (section "GPU sharing and placement").
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
REMOTE = ROOT / "remote"
SIX = [("breakout", "breakout", 1), ("breakout-seed2", "breakout", 2), ("space_invaders", "space_invaders", 1),
       ("freeway", "freeway", 1), ("asterix", "asterix", 1), ("seaquest", "seaquest", 1)]
FIVE = ["breakout", "space_invaders", "freeway", "asterix", "seaquest"]


def env() -> Dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REMOTE), GANTRY_TICK_S="0.2", GANTRY_PROGRESS_INTERVAL_S="5")


def cli(root: Path, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "gantry_remote", args[0], "--root", str(root), *args[1:]],
                          capture_output=True, env=env(), cwd=REMOTE, timeout=120)
    out = proc.stdout.decode().strip()
    if proc.returncode != 0:
        raise SystemExit("%s failed (%d): %s %s" % (args[0], proc.returncode, out, proc.stderr.decode()[-2000:]))
    return json.loads(out)


def metrics(game_dir: Path) -> List[dict]:
    path = game_dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def step_at(rows: List[dict], ts: float) -> float:
    """global_step at time ts, interpolated between metrics lines."""
    for a, b in zip(rows, rows[1:]):
        if a["ts"] <= ts <= b["ts"]:
            f = (ts - a["ts"]) / ((b["ts"] - a["ts"]) or 1)
            return a["global_step"] + f * (b["global_step"] - a["global_step"])
    return float(rows[-1]["global_step"] if ts > rows[-1]["ts"] else rows[0]["global_step"])


def window_sps(per_game: Dict[str, List[dict]]) -> Tuple[float, float]:
    """(total steps/s, window s) over the time every trainer was running and past start-up."""
    rows = {g: r for g, r in per_game.items() if len(r) >= 3}
    if len(rows) != len(per_game):
        return float("nan"), 0.0
    t0 = max(r[1]["ts"] for r in rows.values())  # after each trainer's first line (capture, warm-up)
    t1 = min(r[-1]["ts"] for r in rows.values())
    if t1 <= t0:
        return float("nan"), 0.0
    steps = sum(step_at(r, t1) - step_at(r, t0) for r in rows.values())
    return steps / (t1 - t0), t1 - t0


def makespan_sps(per_game: Dict[str, List[dict]]) -> Tuple[float, float]:
    """(total steps/s, span s) from the first trainer's first metrics line to the last one's last line:
    the rate of the whole plan, for plans whose trainers do not all run at once (queued by slots)."""
    rows = [r for r in per_game.values() if len(r) >= 2]
    if len(rows) != len(per_game):
        return float("nan"), 0.0
    t0, t1 = min(r[0]["ts"] for r in rows), max(r[-1]["ts"] for r in rows)
    steps = sum(r[-1]["global_step"] - r[0]["global_step"] for r in rows)
    return steps / max(t1 - t0, 1e-9), t1 - t0


def start_ups(run_dir: Path) -> List[float]:
    """Per trainer: its game_started event (just after the process started) to its first metrics line."""
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    started = {e["game"]: e["ts"] for e in map(json.loads, lines) if e["type"] == "game_started" and e["attempt"] == 1}
    out = []
    for game, ts in started.items():
        rows = metrics(run_dir / "games" / game)
        if rows:
            out.append(rows[0]["ts"] - ts)
    return out


def run_plan(root: Path, name: str, games: List[dict], slots: int, **fields) -> Dict[str, List[dict]]:
    plan = {"name": name, "slots": slots, "games": games, "heartbeat_timeout_s": 600, **fields}
    path = root / ("%s.json" % name)
    path.write_text(json.dumps(plan))
    run_id = cli(root, "start", "--plan", str(path))["run_id"]
    try:
        while True:
            status = cli(root, "status", "--run", run_id, "--json")
            if status["state"] != "running":
                break
            time.sleep(2)
    finally:  # trainers outlive their supervisor by design: never leave a bench run behind
        cli(root, "stop", "--run", run_id, "--wait", "--grace", "10")
    if status["state"] != "completed":
        raise SystemExit("run %s ended %s: %s" % (name, status["state"], [(g["game"], g["cause"], g["detail"]) for g in status["games"]]))
    run = root / "runs" / run_id / "games"
    per_game = {g["game"]: metrics(run / g["game"]) for g in games}
    print("  %s: %.0f steps/s in the steady window" % (name, window_sps(per_game)[0]), flush=True)
    return per_game


TRAINER_ARGS: Dict[str, Any] = {}


def trainer_value(key: str, value: str) -> Any:
    """A trainer setting as a plan holds it: "true" turns a flag on (plan.trainer_flags passes True as
    --flag); a plan cannot pass a flag's "off", so "false" is refused rather than silently dropped."""
    if value.lower() == "true":
        return True
    if value.lower() == "false":
        raise SystemExit("%s=false: a plan's trainer_args cannot turn a flag off; leave it out if its default is off" % key)
    return value


def trainer_args_from(items: List[str]) -> Dict[str, Any]:
    """--trainer-arg KEY=VALUE items as a plan's trainer_args."""
    args = {}
    for item in items:
        key, _, value = item.partition("=")
        args[key] = trainer_value(key, value)
    return args


def game_entry(name: str, env_name: str, seed: int, steps: int, device: str) -> dict:
    entry = {"game": name, "backend": "builtin", "target_episodes": 10 ** 9,
             "trainer_args": {"total_steps": steps, "seed": seed, "device": device, "metrics_seconds": 1, **TRAINER_ARGS}}
    if env_name != name:
        entry["env"] = env_name
    return entry


def share(root: Path, steps: int, device: str) -> List[str]:
    alone = {}
    for name, env_name, seed in SIX:
        per = run_plan(root, "alone-" + name, [game_entry(name, env_name, seed, steps, device)], slots=1)
        alone[name] = window_sps(per)[0]
    games = [game_entry(n, e, s, steps, device) for n, e, s in SIX]
    mean_alone = sum(alone.values()) / len(alone)
    rows = ["| setting | total steps/s (steady) | ÷ mean alone | window s |", "| --- | ---: | ---: | ---: |"]
    rows += ["| %s alone | %.0f | %.2f | - |" % (n, v, v / mean_alone) for n, v in alone.items()]
    for mode in ("auto", "off"):
        per = run_plan(root, "six-mps-" + mode, games, slots=6, mps=mode)
        sps, window = window_sps(per)
        label = "6 together, supervisor MPS (mps: auto)" if mode == "auto" else "6 together, time-sliced (mps: off)"
        rows.append("| %s | %.0f | **%.2f×** | %.0f |" % (label, sps, sps / mean_alone, window))
    starts = [s for run in (root / "runs").iterdir() for s in start_ups(run)]
    if starts:
        rows.append("| start-up: process start → first metrics line (all runs above) | median %.1f s, max %.1f s | | |"
                    % (sorted(starts)[len(starts) // 2], max(starts)))
    return rows


def mps_scaling(root: Path, steps: int, device: str) -> List[str]:
    """Where six clients lose half their speed: one trainer alone without MPS, alone as the only
    client of the run's MPS daemon (2 slots, 1 game: the supervisor starts it), then 2, 3 and 6
    Breakout seeds under it. Per-client speed that already halves alone under MPS points at MPS
    itself; one that falls with the client count points at the GPU (or the host) being full."""
    def breakouts(n: int) -> List[dict]:
        return [game_entry("breakout-seed%d" % s, "breakout", s, steps, device) for s in range(1, n + 1)]
    alone, _ = window_sps(run_plan(root, "breakout-alone-no-mps", breakouts(1), slots=1, mps="off"))
    rows = ["| setting | clients | total steps/s (steady) | per client | per client ÷ alone without MPS |",
            "| --- | ---: | ---: | ---: | ---: |",
            "| breakout alone, no MPS | 1 | %.0f | %.0f | 1.00 |" % (alone, alone)]
    for n in (1, 2, 3, 6):
        sps, _ = window_sps(run_plan(root, "breakout-x%d-mps" % n, breakouts(n), slots=max(2, n), mps="auto"))
        rows.append("| breakout × %d under MPS | %d | %.0f | %.0f | %.2f |" % (n, n, sps, sps / n, sps / n / alone))
    return rows


def multi_gpu(root: Path, steps: int, device: str) -> List[str]:
    games = [game_entry("%s-seed%d" % (g, s) if s > 1 else g, g, s, steps, device) for g in FIVE for s in (1, 2)]
    # Restricted to GPU 0 the plan runs in two waves of 5, so both runs are rated over the whole
    # plan (first metrics line to last), not over a window where every trainer runs.
    rows = ["| setting | total steps/s (whole plan) | ratio | span s |", "| --- | ---: | ---: | ---: |"]
    one, w1 = makespan_sps(run_plan(root, "ten-gpu0", games, slots=5, gpus=[0]))
    rows.append("| 10 trainers, 5 slots on GPU 0 only | %.0f | 1.00 | %.0f |" % (one, w1))
    every, w2 = makespan_sps(run_plan(root, "ten-all-gpus", games, slots=5, gpus="all"))
    rows.append("| 10 trainers, 5 slots on every GPU | %.0f | **%.2f×** | %.0f |" % (every, every / one, w2))
    return rows


def machine() -> str:
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"], capture_output=True, timeout=10)
        gpus = smi.stdout.decode().strip().replace("\n", "; ")
    except OSError:
        gpus = "no GPU"
    return "%s, %d CPU threads, Python %s" % (gpus, os.cpu_count() or 0, platform.python_version())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--share", action="store_true", help="six trainers alone and together on one GPU")
    parser.add_argument("--multi-gpu", action="store_true", help="10 trainers on every GPU vs GPU 0 only")
    parser.add_argument("--mps-scaling", action="store_true", help="Breakout alone with and without MPS, then 2, 3, 6 under MPS")
    parser.add_argument("--steps", type=int, default=2_000_000, help="env steps per trainer (default 2M)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--trainer-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="a trainer setting for every trainer (e.g. num_envs=8), repeatable")
    parser.add_argument("--root", help="keep the runs here (default: a temp folder)")
    parser.add_argument("--no-append", action="store_true")
    opts = parser.parse_args()
    if not (opts.share or opts.multi_gpu or opts.mps_scaling):
        parser.error("choose --share, --multi-gpu and/or --mps-scaling")
    TRAINER_ARGS.update(trainer_args_from(opts.trainer_arg))
    root = Path(opts.root or tempfile.mkdtemp(prefix="gantry-bench-gpu-")).resolve()  # the CLI runs in remote/
    root.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    lines = []
    if opts.share:
        lines += ["", "Six built-in trainers on one GPU, %d steps each (goal: ≥ 4× the mean of each alone):" % opts.steps, ""]
        lines += share(root, opts.steps, opts.device)
    if opts.mps_scaling:
        lines += ["", "Breakout trainers under the run's MPS daemon, %d steps each (where per-client speed goes):" % opts.steps, ""]
        lines += mps_scaling(root, opts.steps, opts.device)
    if opts.multi_gpu:
        lines += ["", "5 built-in games × 2 seeds (goal: every GPU ≥ 1.9× GPU 0 only), %d steps each:" % opts.steps, ""]
        lines += multi_gpu(root, opts.steps, opts.device)
    cmd = "python3 bench/bench_gpu_share.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    header = "### %s — %s\n\n`%s`" % (started.strftime("%Y-%m-%d %H:%M UTC"), machine(), cmd)
    text = "\n".join([header] + lines) + "\n"
    print(text)
    if not opts.no_append:
        with open(ROOT / "BENCHMARKS.md", "a") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
