"""Which trainer settings learn: candidate settings x seeds, trained side by side on one GPU.

    python3 bench/bench_defaults.py --games breakout,space_invaders --seeds 1,2,3 \
        --candidate "e8=update_epochs=8" --candidate "e8-mb2048=update_epochs=8,minibatch_size=2048"
    python3 bench/bench_defaults.py --games breakout --seeds 1 --steps 20000 --device cpu \
        --candidate "small=num_envs=8,num_steps=16,minibatch_size=64" --no-append      # CPU smoke

Every (candidate, game, seed) is one game of one plan, run by a real supervisor with every game in
its own slot, so on a GPU they share it through the run's MPS daemon. Learning per step does not
depend on how fast the GPU is shared, so the final returns are what each setting gives alone;
wall time is not reported here (bench_trainer.py and bench_gpu_share.py time the defaults alone).
The trainer's defaults apply to every setting a candidate does not name; sticky actions are the
built-in games' default (MinAtar's 0.1) unless a candidate sets `sticky_actions`.

Prints a table (final mean return over the last 100 episodes, and the step at which the mean first
reached the gymnax PPO reference) and appends it to BENCHMARKS.md; --out keeps the raw curves.
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
import bench_gpu_share as runs  # noqa: E402  (the supervisor-driven plan runner and metrics reader)

REFERENCE_RETURNS = {"breakout": 28.0, "space_invaders": 131.0}


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
        settings[key] = value
    return label, settings


def reached_at(rows: List[dict], reference: Optional[float]) -> Optional[int]:
    for row in rows:
        if reference is not None and row.get("mean_return") is not None and row["mean_return"] >= reference:
            return row["global_step"]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", default="breakout,space_invaders")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--steps", type=int, default=10_000_000)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--candidate", action="append", required=True, metavar="LABEL=key=value,...")
    parser.add_argument("--root", help="keep the runs here (default: a temp folder)")
    parser.add_argument("--out", help="write the raw metrics of every game here (JSON)")
    parser.add_argument("--no-append", action="store_true")
    opts = parser.parse_args()

    candidates = [parse_candidate(c) for c in opts.candidate]
    games, seeds = opts.games.split(","), [int(s) for s in opts.seeds.split(",")]
    entries, labels = [], {}
    for label, settings in candidates:
        for game in games:
            for seed in seeds:
                name = "%s-%s-s%d" % (game.replace("_", "-"), label, seed)
                entry = runs.game_entry(name, game, seed, opts.steps, opts.device)
                entry["trainer_args"].update(settings)
                entries.append(entry)
                labels[name] = (label, game, seed)
    root = Path(opts.root or tempfile.mkdtemp(prefix="gantry-bench-defaults-"))
    root.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    per_game: Dict[str, List[dict]] = runs.run_plan(root, "defaults", entries, slots=len(entries))

    rows = ["| setting | game | seed | final mean return | reference | reached at step |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for name, (label, game, seed) in labels.items():
        curve = per_game[name]
        last = curve[-1] if curve else {}
        reference = REFERENCE_RETURNS.get(game)
        hit = reached_at(curve, reference)
        settings = ", ".join("%s=%s" % kv for kv in dict(candidates)[label].items()) or "the defaults"
        rows.append("| %s (%s) | %s | %d | %s | %s | %s |" % (
            label, settings, game, seed,
            "%.1f" % last["mean_return"] if last.get("mean_return") is not None else "-",
            reference if reference is not None else "-", "%.2fM" % (hit / 1e6) if hit else "not reached"))
    cmd = "python3 bench/bench_defaults.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    text = "\n".join(["### %s — %s" % (started.strftime("%Y-%m-%d %H:%M UTC"), runs.machine()), "", "`%s`" % cmd, ""] + rows) + "\n"
    print(text)
    if opts.out:
        Path(opts.out).write_text(json.dumps({name: per_game[name] for name in labels}))
    if not opts.no_append:
        with open(runs.ROOT / "BENCHMARKS.md", "a") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
