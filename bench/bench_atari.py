"""Raw Atari vector-env throughput (env steps/s, random actions, no learning), one run, three ways:

* `sync`:  ale-py's C++ vector env (`AtariVectorEnv`), all envs every step (what `--backend ale` runs)
* `async`: the same with `batch_size = num_envs / 2` (EnvPool's trick: step whichever half is ready)
* `procs`: the old path, gymnasium `AsyncVectorEnv`, one Python process per env

Same preprocessing in all three: frame skip 4 with max-pool, 84x84 grey, 4-frame stack, noop starts,
FIRE on reset, sticky actions 0.25 (ALE v5). An env step is one agent step (4 emulator frames).

    .venv/bin/python bench/bench_atari.py --envs 8,64,256 --out /tmp/atari.json
    python3 bench/bench_atari.py --render /tmp/atari.json     # markdown rows for BENCHMARKS.md
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np

MODES = ("sync", "async", "procs")


def make_vector(game, num_envs, batch_size, threads, seed):
    from ale_py.vector_env import AtariVectorEnv
    from gymnasium.vector import AutoresetMode

    env = AtariVectorEnv(game, num_envs, batch_size=batch_size, num_threads=threads,
                         repeat_action_probability=0.25, autoreset_mode=AutoresetMode.SAME_STEP,
                         reward_clipping=False, episodic_life=False)
    env.reset(seed=seed)
    return env


def time_vector(game, num_envs, batch_size, threads, seconds, seed=0):
    env = make_vector(game, num_envs, batch_size, threads, seed)
    rng = np.random.default_rng(seed)
    n_actions = env.single_action_space.n

    def step():
        # In async mode (batch_size < num_envs) the actions go to the batch the last call returned,
        # and this call returns whichever batch_size envs finish first while the rest keep running.
        env.step(rng.integers(0, n_actions, batch_size))
        return batch_size
    return _time(step, seconds), env


def time_procs(game, num_envs, seconds, seed=0):
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    env_id = "ALE/%s-v5" % "".join(w.capitalize() for w in game.split("_"))

    def make_one():
        env = gym.make(env_id, frameskip=1, repeat_action_probability=0.25)
        env = gym.wrappers.AtariPreprocessing(env, frame_skip=4, screen_size=84, noop_max=30, terminal_on_life_loss=False)
        return gym.wrappers.FrameStackObservation(env, 4)

    env = gym.vector.AsyncVectorEnv([make_one] * num_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)

    def step():
        env.step(rng.integers(0, 4, num_envs))
        return num_envs
    try:
        return _time(step, seconds), env
    finally:
        env.close()


def _time(step, seconds):
    """Steps/s over `seconds` after a 1 s (at least 3 calls) warm-up."""
    warm_end, calls = time.perf_counter() + 1.0, 0
    while time.perf_counter() < warm_end or calls < 3:
        step()
        calls += 1
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        steps += step()
    return steps / (time.perf_counter() - start)


def machine():
    cores = len(os.sched_getaffinity(0))
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        model = "?"
    return "%s, %d cores allowed (%s), Python %s" % (platform.node() or "?", cores, model, platform.python_version())


def run(args):
    import ale_py

    threads = args.threads or len(os.sched_getaffinity(0))
    rows = []
    for n in [int(x) for x in args.envs.split(",")]:
        row = {"envs": n, "threads": threads}
        for mode in args.modes.split(","):
            if mode == "procs" and n > args.max_procs:
                row[mode] = None
                continue
            if mode == "sync":
                sps, _ = time_vector(args.game, n, n, threads, args.seconds)
            elif mode == "async":
                sps, _ = time_vector(args.game, n, max(1, n // 2), threads, args.seconds)
            else:
                sps, _ = time_procs(args.game, n, args.seconds)
            row[mode] = round(sps, 1)
            print("%s %4d envs  %-5s %10.0f steps/s" % (args.game, n, mode, sps), flush=True)
        rows.append(row)
    return {"game": args.game, "machine": machine(), "ale_py": ale_py.__version__,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "seconds": args.seconds, "command": " ".join(sys.argv), "rows": rows}


def render(result):
    out = ["%s, %s, ale-py %s, %s; `%s`" % (result["game"], result["machine"], result["ale_py"], result["date"],
                                             result["command"]), "",
           "| envs | threads | sync steps/s | async (batch = envs/2) steps/s | process per env steps/s | sync / procs |",
           "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        def cell(v):
            return "-" if v is None else "%.0f" % v
        ratio = "%.2fx" % (r["sync"] / r["procs"]) if r.get("sync") and r.get("procs") else "-"
        out.append("| %d | %d | %s | %s | %s | %s |" % (r["envs"], r["threads"], cell(r.get("sync")),
                                                       cell(r.get("async")), cell(r.get("procs")), ratio))
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--game", default="breakout", help="ale-py ROM id (snake_case)")
    p.add_argument("--envs", default="8,64,256")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--threads", type=int, default=0, help="vector env worker threads (0: one per allowed core)")
    p.add_argument("--seconds", type=float, default=5.0, help="timed window per measurement")
    p.add_argument("--max-procs", type=int, default=256, help="skip the process-per-env path above this many envs")
    p.add_argument("--out", help="write the result as JSON here")
    p.add_argument("--render", help="print markdown for a JSON result and exit")
    args = p.parse_args()
    if args.render:
        with open(args.render) as f:
            print(render(json.load(f)))
        return
    result = run(args)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    print(render(result))


if __name__ == "__main__":
    main()
