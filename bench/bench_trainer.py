"""Trainer benchmark: PPO steps/s on the built-in games, alone and 6 trainers sharing one GPU,
GPU utilisation during the shared run, and a learning check against gymnax's PPO references.

    python3 bench/bench_trainer.py --device cuda                   # full (H200: a few minutes)
    python3 bench/bench_trainer.py --device cuda --trainers 0 --run-timeout 120   # learning check only
    python3 bench/bench_trainer.py --device cuda --extra=--no-cuda-graphs          # the eager loop, for comparison
    python3 bench/bench_trainer.py --device cpu --steps 200000 --shared-steps 50000 --no-append   # smoke
    python3 bench/bench_trainer.py --device cuda --trainers 0 --steps 3000000 --no-append --out DIR   # start-up

Each learning-check run also reports its start-up: seconds from launch to the first metrics line
(first_metrics_s) and the trainer's own clock from train.log (first_update_s, startup_phases).

Each trainer is a real `python3 -m gantry_remote train` process; numbers come from its
metrics.jsonl, with the trainer's own defaults unless a flag below overrides them. Prints a table
and appends it to BENCHMARKS.md (section "Trainer") with the command, machine and date.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
REMOTE = ROOT / "remote"

# gymnax PPO returns at 10M steps (MinAtar), the bar our built-in games must reach. gymnax's games
# have no sticky actions (MinAtar's have 0.1), hence the bench's default --sticky-actions 0.
REFERENCE_RETURNS = {"breakout": 28.0, "space_invaders": 131.0}


def trainer_cmd(run_dir: Path, game: str, steps: int, device: str, seed: int, cfg: Dict[str, str]) -> List[str]:
    cmd = [sys.executable, "-m", "gantry_remote", "train", "--game", game, "--backend", "builtin", "--run-dir", str(run_dir),
           "--total-steps", str(steps), "--device", device, "--seed", str(seed), "--metrics-seconds", "1"]
    for key, value in cfg.items():
        cmd += ["--" + key] if value == "" else ["--" + key, value]
    return cmd


def launch(run_dir: Path, *args) -> subprocess.Popen:
    run_dir.mkdir(parents=True, exist_ok=True)
    log = open(run_dir / "train.log", "w")
    return subprocess.Popen(trainer_cmd(run_dir, *args), stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONPATH=str(REMOTE)))


def read_metrics(run_dir: Path) -> List[dict]:
    path = run_dir / "metrics.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


class GpuSampler(threading.Thread):
    """nvidia-smi utilisation.gpu every `period` s while running."""

    def __init__(self, period: float = 0.5):
        super().__init__(daemon=True)
        self.period, self.samples, self.stop = period, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"],
                                     capture_output=True, text=True, timeout=5).stdout.split("\n")[0]
                util, mem = (float(x) for x in out.split(","))
                self.samples.append((time.time(), util, mem))
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
            self.stop.wait(self.period)


def summarize_run(run_dir: Path, started: float, ended: float, game: str) -> Dict[str, object]:
    rows = read_metrics(run_dir)
    ref = REFERENCE_RETURNS.get(game)
    hit = next((r for r in rows if ref is not None and r["mean_return"] is not None and r["mean_return"] >= ref), None)
    first = rows[0] if rows else None
    startup = startup_phases(run_dir)
    steady_sps = None
    if first and len(rows) > 1:  # from the first metrics line on: excludes start-up and compilation
        steady_sps = (rows[-1]["global_step"] - first["global_step"]) / max(rows[-1]["ts"] - first["ts"], 1e-9)
    return {
        "game": game,
        "steps": rows[-1]["global_step"] if rows else 0,
        "wall_s": ended - started,
        "first_metrics_s": (first["ts"] - started) if first else None,  # from launch, as the issue counts it
        "first_update_s": startup["first_update_s"] if startup else None,  # the trainer's clock, from its process start
        "startup_phases": startup["phases"] if startup else None,
        "sps_overall": (rows[-1]["global_step"] / (ended - started)) if rows else 0.0,
        "sps_steady": steady_sps,
        "final_mean_return": rows[-1]["mean_return"] if rows else None,
        "reference": ref,
        "ref_reached_s": (hit["ts"] - started) if hit else None,
        "ref_reached_step": hit["global_step"] if hit else None,
    }


def capture_seconds(run_dir: Path) -> Optional[float]:
    """The trainer's own report of how long the CUDA-graph capture took (None on the eager path)."""
    log = run_dir / "train.log"
    for line in (log.read_text().splitlines() if log.exists() else []):
        if "captured CUDA graphs" in line:
            return float(line.rsplit(" in ", 1)[1].split()[0])
    return None


def startup_phases(run_dir: Path) -> Optional[Dict[str, object]]:
    """The trainer's own start-up clock (train.log's "first update ... s from process start (...)"
    line): seconds from its process start to the first update, and each phase's share."""
    log = run_dir / "train.log"
    marker = "first update "
    for line in (log.read_text().splitlines() if log.exists() else []):
        if marker in line and " s from process start (" in line:
            total, listed = line.split(marker, 1)[1].split(" s from process start (", 1)
            phases = {}
            for part in listed.rstrip(")").split(", "):
                name, seconds, _unit = part.rsplit(" ", 2)
                phases[name] = float(seconds)
            return {"first_update_s": float(total), "phases": phases}
    return None


def parse_extra(text: str) -> Dict[str, str]:
    """'--amp --sticky-actions 0' -> {"amp": "", "sticky-actions": "0"}: a flag takes the next token
    as its value unless that token is itself a flag."""
    tokens, cfg = shlex.split(text), {}
    for i, token in enumerate(tokens):
        if not token.startswith("--"):
            if i == 0 or not tokens[i - 1].startswith("--"):
                raise SystemExit("--extra: %r is not a --flag or a flag's value" % token)
            continue
        value = tokens[i + 1] if i + 1 < len(tokens) and not tokens[i + 1].startswith("--") else ""
        cfg[token[2:]] = value
    return cfg


def fmt(x, spec="%.1f"):
    return "-" if x is None else spec % x


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=10_000_000, help="steps per learning-check run")
    parser.add_argument("--games", default="breakout,space_invaders")
    parser.add_argument("--seeds", default="1", help="learning-check seeds, e.g. 1,2,3 (one run per game and seed)")
    parser.add_argument("--shared-steps", type=int, default=3_000_000, help="steps per trainer in the 6-way run")
    parser.add_argument("--trainers", type=int, default=6)
    parser.add_argument("--num-envs", default="", help="trainer flag; unset: the trainer's default")
    parser.add_argument("--num-steps", default="", help="trainer flag; unset: the trainer's default")
    parser.add_argument("--minibatch-size", default="", help="trainer flag; unset: the trainer's default")
    parser.add_argument("--learning-rate", default="", help="trainer flag; unset: the trainer's default")
    parser.add_argument("--clip-coef", default="", help="trainer flag; unset: the trainer's default")
    parser.add_argument("--sticky-actions", default="0", help="0: gymnax's rules, under which its PPO references were "
                        "measured; 0.1: MinAtar's; '': the trainer's default (MinAtar's)")
    parser.add_argument("--extra", default="", help="extra trainer flags, e.g. '--amp --sticky-actions 0 --ent-coef 0.005'")
    parser.add_argument("--run-timeout", type=float, default=0, help="SIGTERM a learning-check run after this many s (0: none)")
    parser.add_argument("--out", default="", help="keep run dirs here (default: a temp dir, removed)")
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to BENCHMARKS.md")
    opts = parser.parse_args()

    chosen = {"num-envs": opts.num_envs, "num-steps": opts.num_steps, "minibatch-size": opts.minibatch_size,
              "learning-rate": opts.learning_rate, "clip-coef": opts.clip_coef, "sticky-actions": opts.sticky_actions}
    cfg = {flag: value for flag, value in chosen.items() if value != ""}
    cfg["checkpoint-minutes"] = "60"
    cfg.update(parse_extra(opts.extra))
    work = Path(opts.out) if opts.out else Path(tempfile.mkdtemp(prefix="bench-trainer-"))
    results, lines = [], []

    # 1. Learning check, one trainer alone on the device.
    checks = [(g, int(s)) for g in opts.games.split(",") if g for s in opts.seeds.split(",") if s]
    for game, seed in checks:
        run_dir = work / ("alone-%s" % game if seed == 1 else "alone-%s-seed%d" % (game, seed))
        started = time.time()
        proc = launch(run_dir, game, opts.steps, opts.device, seed, cfg)
        try:
            proc.wait(timeout=opts.run_timeout or None)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # the trainer checkpoints and exits 0; the table shows the steps reached
            proc.wait()
        res = summarize_run(run_dir, started, time.time(), game)
        res.update(seed=seed, exit=proc.returncode, captured_s=capture_seconds(run_dir))
        results.append(res)
        print(json.dumps(res), flush=True)

    # 2. N trainers sharing the device, GPU utilisation sampled meanwhile.
    shared = None
    if opts.trainers > 0 and opts.shared_steps > 0:
        sampler = GpuSampler() if shutil.which("nvidia-smi") else None
        if sampler:
            sampler.start()
        started = time.time()
        procs = [launch(work / ("shared-%d" % i), "breakout", opts.shared_steps, opts.device, 100 + i, cfg) for i in range(opts.trainers)]
        for p in procs:
            p.wait()
        ended = time.time()
        if sampler:
            sampler.stop.set()
            sampler.join()
        per = [summarize_run(work / ("shared-%d" % i), started, ended, "breakout") for i in range(opts.trainers)]
        # Utilisation while all trainers were past start-up: from the latest first metrics line
        # to the earliest last one.
        firsts = [read_metrics(work / ("shared-%d" % i))[0]["ts"] for i in range(opts.trainers) if read_metrics(work / ("shared-%d" % i))]
        lasts = [read_metrics(work / ("shared-%d" % i))[-1]["ts"] for i in range(opts.trainers) if read_metrics(work / ("shared-%d" % i))]
        window = (max(firsts), min(lasts)) if firsts and lasts else (started, ended)
        utils = [u for (t, u, _m) in (sampler.samples if sampler else []) if window[0] <= t <= window[1]]
        mems = [m for (_t, _u, m) in (sampler.samples if sampler else [])]
        shared = {
            "trainers": opts.trainers,
            "wall_s": ended - started,
            "exits": [p.returncode for p in procs],
            "sps_total_steady": sum(r["sps_steady"] or 0.0 for r in per),
            "sps_per_trainer_steady": [round(r["sps_steady"] or 0.0) for r in per],
            "gpu_util_mean": (sum(utils) / len(utils)) if utils else None,
            "gpu_util_min": min(utils) if utils else None,
            "gpu_util_samples": len(utils),
            "gpu_mem_max_mib": max(mems) if mems else None,
        }
        print(json.dumps(shared), flush=True)

    # Table.
    processor = gpu_name() if opts.device.startswith("cuda") else platform.processor() or "cpu"
    machine = "%s, %s, Python %s" % (platform.node() or "?", processor, platform.python_version())
    lines.append("| run | steps | wall s | first metrics line s | steps/s (steady) | final mean return | reference "
                 "| reference reached at |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        reached = "-" if r["ref_reached_s"] is None else "%.1f s (%d steps)" % (r["ref_reached_s"], r["ref_reached_step"])
        lines.append("| %s alone, seed %d | %d | %.1f | %s | %s | %s | %s | %s |" % (
            r["game"], r["seed"], r["steps"], r["wall_s"], fmt(r["first_metrics_s"]), fmt(r["sps_steady"], "%.0f"),
            fmt(r["final_mean_return"]), fmt(r["reference"], "%.0f"), reached))
    if shared:
        lines.append("| %d x breakout shared | %d each | %.1f | - | %.0f total (%s) | - | - "
                     "| GPU util mean %s%%, min %s%%, %d samples; max mem %s MiB |"
                     % (shared["trainers"], opts.shared_steps, shared["wall_s"], shared["sps_total_steady"],
                        ", ".join(str(x) for x in shared["sps_per_trainer_steady"]), fmt(shared["gpu_util_mean"]),
                        fmt(shared["gpu_util_min"], "%.0f"), shared["gpu_util_samples"], fmt(shared["gpu_mem_max_mib"], "%.0f")))
    table = "\n".join(lines)
    print(table)
    report = {"results": results, "shared": shared, "machine": machine, "config": cfg}
    (work / "bench_trainer.json").write_text(json.dumps(report, indent=2))
    if not opts.no_append:
        command = "python3 bench/bench_trainer.py " + " ".join(sys.argv[1:])
        with open(ROOT / "BENCHMARKS.md", "a") as f:
            f.write("\n## Trainer: PPO on built-in games (%s)\n\n`%s`  \nMachine: %s  \nTrainer flags: `%s`\n\n%s\n"
                    % (datetime.date.today().isoformat(), command, machine, " ".join("--%s %s" % kv for kv in cfg.items()), table))
    if not opts.out:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def gpu_name() -> str:
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True,
                              timeout=10).stdout.strip().split("\n")[0]
    except (OSError, subprocess.TimeoutExpired):
        return "unknown GPU"


if __name__ == "__main__":
    sys.exit(main())
