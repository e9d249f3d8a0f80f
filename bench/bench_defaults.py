"""Which trainer settings learn: candidate settings x seeds, trained side by side on one GPU.

    python3 bench/bench_defaults.py --games breakout,space_invaders --seeds 1,2,3 \
        --candidate "e8=update_epochs=8" --candidate "e8-mb2048=update_epochs=8,minibatch_size=2048"
    python3 bench/bench_defaults.py --games breakout --seeds 1 --steps 20000 --device cpu \
        --candidate "small=num_envs=8,num_steps=16,minibatch_size=64" --no-append      # CPU smoke

Real Atari (`--atari-backend`: the games are Atari names, the backend chosen by `start` as for any
plan), e.g. the seed's 256 envs against CleanRL's 8 (8 x 128 steps, 4 minibatches = 256 samples, 4
epochs; lr 2.5e-4, clip 0.1 are the Atari defaults; sticky 0 as EnvPool's, CleanRL's table):

    python3 bench/bench_defaults.py --atari-backend ale --games Breakout --seeds 1 --steps 3000000 \
        --candidate "envs256=sticky_actions=0" \
        --candidate "envs8=num_envs=8,minibatch_size=256,sticky_actions=0" --detach --root bench/results/envs
    python3 bench/bench_defaults.py --report bench/results/envs [--wait [SECONDS]] [--marks 1e6,2e6]   # later

--detach returns once the supervisor has started (the run trains on by itself: the GPU machine's
commands last at most 10 minutes); --report reads the run's files at any time and prints the table
(and, once every game has ended, appends it to BENCHMARKS.md unless --no-append).

Every (candidate, game, seed) is one game of one plan, run by a real supervisor with every game in
its own slot, so on a GPU they share it through the run's MPS daemon. Learning per step does not
depend on how fast the GPU is shared, so the final returns are what each setting gives alone;
wall time is not reported here (bench_trainer.py and bench_gpu_share.py time the defaults alone).
The trainer's defaults apply to every setting a candidate does not name; sticky actions are the
backend's default (MinAtar's 0.1 for the built-in games, 0.25 for ale) unless a candidate sets
`sticky_actions`.

Prints a table (mean return over the last 100 episodes at a quarter, half, three quarters and all of
--steps, so settings compare at equal steps; the step at which the mean first reached the reference:
gymnax's PPO for the built-in games, CleanRL's 10M-step ppo_atari_envpool for Atari) and appends it
to BENCHMARKS.md; --out keeps the raw curves.
"""
import argparse
import datetime
import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_gpu_share as runs  # noqa: E402  (the supervisor's CLI and the run's machine line)
import detached_run  # noqa: E402

REFERENCE_RETURNS = {"breakout": 28.0, "space_invaders": 131.0}
# CleanRL ppo_atari_envpool, 10M steps (its published table; BENCHMARKS.md "Atari").
CLEANRL_RETURNS = {"Breakout": 430.0, "Pong": 20.4}


def parse_candidate(text: str) -> tuple:
    """'label=key=value,key=value' -> (label, {key: value})."""
    label, sep, rest = text.partition("=")
    if not sep or not label:
        raise SystemExit("--candidate wants LABEL=key=value[,key=value]: %r" % text)
    settings = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit("--candidate %s: %r is not key=value" % (label, item))
        settings[key] = runs.trainer_value(key, value)
    return label, settings


def reached_at(rows: List[dict], reference: Optional[float]) -> Optional[int]:
    for row in rows:
        if reference is not None and row.get("mean_return") is not None and row["mean_return"] >= reference:
            return row["global_step"]
    return None


def return_at(rows: List[dict], step: int) -> Optional[float]:
    """The mean return of the last metrics line at or before `step` (None before any finished episode),
    so settings whose rollouts differ in size compare at the same number of env steps."""
    if not rows or rows[-1]["global_step"] < step:
        return None  # the run has not got there (yet)
    before = [r for r in rows if r["global_step"] <= step]
    return before[-1].get("mean_return") if before else None


def steps_text(n: int) -> str:
    """10000000 -> "10M", 2500000 -> "2.5M", 64000 -> "64k", 256 -> "256"."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if n >= size:
            return "%.3g%s" % (n / size, unit)
    return str(n)


def build_entries(games: List[str], seeds: List[int], candidates: List[tuple], steps: int, device: str,
                  atari: bool) -> tuple:
    entries, labels = [], {}
    for label, settings in candidates:
        for game in games:
            for seed in seeds:
                name = "%s-%s-s%d" % (game.replace("_", "-"), label, seed)
                entry = runs.game_entry(name, game, seed, steps, device)
                if atari:
                    entry["backend"] = None  # chosen by `start --atari-backend`
                    entry["env"] = game
                entry["trainer_args"].update(settings)
                entries.append(entry)
                labels[name] = (label, game, seed)
    return entries, labels


def table(manifest: dict, per_game: Dict[str, List[dict]], marks: Optional[List[int]] = None) -> List[str]:
    steps, candidates, references = manifest["steps"], dict(manifest["candidates"]), manifest["references"]
    marks = marks or [steps // 4, steps // 2, 3 * steps // 4, steps]
    rows = ["| setting | game | seed | steps so far | %s | reference | reached at step |" % " | ".join(
                "return at %s" % steps_text(m) for m in marks),
            "| --- | --- | ---: | ---: | %s | ---: | ---: |" % " | ".join("---:" for _ in marks)]
    for name, (label, game, seed) in manifest["labels"].items():
        curve = per_game.get(name, [])
        reference = references.get(game)
        hit = reached_at(curve, reference)
        settings = ", ".join("%s=%s" % kv for kv in candidates[label].items()) or "the defaults"
        at = [return_at(curve, m) for m in marks]
        rows.append("| %s (%s) | %s | %d | %s | %s | %s | %s |" % (
            label, settings, game, seed, steps_text(curve[-1]["global_step"]) if curve else "-",
            " | ".join("-" if v is None else "%.1f" % v for v in at),
            reference if reference is not None else "-", "%.2fM" % (hit / 1e6) if hit else "not reached"))
    return rows


def report(root: Path, opts: argparse.Namespace) -> int:
    manifest = detached_run.load(root, "defaults")
    if opts.wait is not None:
        detached_run.wait_until_ended(root, manifest, opts.wait)
    state = detached_run.run_state(root, manifest)["state"]
    per_game = {name: detached_run.game_metrics(root, manifest, name) for name in manifest["labels"]}
    started = datetime.datetime.fromtimestamp(manifest["started_ts"], datetime.timezone.utc)
    cmd = "python3 bench/bench_defaults.py " + " ".join(shlex.quote(a) for a in manifest["argv"][1:])
    text = "\n".join(["### %s — %s" % (started.strftime("%Y-%m-%d %H:%M UTC"), runs.machine()), "", "`%s`" % cmd, "",
                      "Run %s: %s." % (manifest["run_id"], state), ""] + table(manifest, per_game, opts.marks)) + "\n"
    print(text)
    if opts.out:
        Path(opts.out).write_text(json.dumps(per_game))
    if state == "running":
        print("(still running: read it again later, or add --wait [SECONDS])")
    elif not opts.no_append:
        with open(runs.ROOT / "BENCHMARKS.md", "a") as f:
            f.write("\n" + text)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", default="breakout,space_invaders")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--steps", type=int, default=10_000_000)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--candidate", action="append", default=[], metavar="LABEL=key=value,...")
    parser.add_argument("--atari-backend", choices=("ale", "envpool"), help="the games are real Atari games on this backend")
    parser.add_argument("--root", help="keep the runs here (default: a temp folder)")
    parser.add_argument("--detach", action="store_true", help="start the run and return; read it later with --report ROOT")
    parser.add_argument("--report", metavar="ROOT", help="print the table of a run started with --detach --root ROOT")
    parser.add_argument("--wait", type=float, nargs="?", const=float("inf"), metavar="SECONDS",
                        help="with --report: wait until every game has ended (at most SECONDS), then report")
    parser.add_argument("--marks", type=lambda text: [int(float(x)) for x in text.split(",")], metavar="STEP,STEP,...",
                        help="the steps to compare mean returns at (default: a quarter, half, three quarters, all of --steps)")
    parser.add_argument("--out", help="write the raw metrics of every game here (JSON)")
    parser.add_argument("--no-append", action="store_true")
    opts = parser.parse_args()
    if opts.report:
        return report(Path(opts.report).resolve(), opts)
    if not opts.candidate:
        parser.error("give at least one --candidate LABEL=key=value,...")

    candidates = [parse_candidate(c) for c in opts.candidate]
    games, seeds = opts.games.split(","), [int(s) for s in opts.seeds.split(",")]
    atari = opts.atari_backend is not None
    entries, labels = build_entries(games, seeds, candidates, opts.steps, opts.device, atari)
    # Absolute: the supervisor CLI runs in remote/, where a relative root would name another folder.
    root = Path(opts.root or tempfile.mkdtemp(prefix="gantry-bench-defaults-")).resolve()
    plan = {"name": "defaults", "slots": len(entries), "games": entries, "heartbeat_timeout_s": 600}
    manifest = detached_run.start(root, plan, opts.atari_backend, {
        "bench": "defaults", "steps": opts.steps, "candidates": candidates, "labels": labels,
        "references": CLEANRL_RETURNS if atari else REFERENCE_RETURNS})
    if opts.detach:
        print("started run %s (%d trainers) under %s.\nRead it with: python3 bench/bench_defaults.py --report %s"
              % (manifest["run_id"], len(entries), root, root))
        return 0
    try:
        state = detached_run.wait_until_ended(root, manifest, float("inf"))
    finally:  # trainers outlive their supervisor by design: never leave a bench run behind
        runs.cli(root, "stop", "--run", manifest["run_id"], "--wait", "--grace", "10")
    if state != "completed":
        games = detached_run.run_state(root, manifest)["games"]
        raise SystemExit("run ended %s: %s" % (state, [(n, g.get("cause"), g.get("detail")) for n, g in games.items()]))
    return report(root, opts)


if __name__ == "__main__":
    sys.exit(main())
