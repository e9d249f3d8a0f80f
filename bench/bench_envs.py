"""Env-only throughput of the built-in games: steps/s with random actions.

CUDA: each measurement runs K steps per CUDA-graph launch (compiled step, random actions drawn
on the device inside the graph), best of 3 timed windows after warm-up; the protocol gymnax's
jit+scan figures use. CPU: the plain eager step in a Python loop (what "This computer" runs).

Before timing on CUDA it checks that the compiled CUDA step reproduces the eager CPU step
bit for bit (obs, reward, terminated, truncated) for a few dozen steps.

With --gymnax it first runs bench_peer_gymnax.py (gymnax's MinAtar games under JAX, same
protocol) in its own process on the same machine, and the table's "vs gymnax" ratios are from
that run; --peer-json takes a peer result file written earlier instead. Without either there is
no ratio (the constants this script once carried were a different day's measurement).

    cd remote && python3 ../bench/bench_envs.py --device cuda --static --gymnax ../.gl/gymnax-1.0 --out /tmp/envs.json
    cd remote && python3 ../bench/bench_envs.py --device cpu --sizes 64
    python3 bench/bench_envs.py --render envs.json --append-md BENCHMARKS.md
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "remote"))

GAMES = ["breakout", "space_invaders", "freeway", "asterix", "seaquest"]


def machine_description(device: str) -> str:
    import torch

    if device == "cuda":
        return "%s, torch %s, CUDA %s" % (torch.cuda.get_device_name(0), torch.__version__, torch.version.cuda)
    return "%s, %d CPU threads, torch %s" % (platform.processor() or platform.machine(), torch.get_num_threads(), torch.__version__)


def best_rate(run_once, env_steps_per_call: int, repeats: int, window_s: float, sync) -> float:
    """Best of `repeats` windows of at least `window_s` seconds, in env steps per second."""
    best = 0.0
    for _ in range(repeats):
        calls = 0
        sync()
        start = time.perf_counter()
        while True:
            run_once()
            calls += 1
            if calls % 4 == 0:
                sync()
                elapsed = time.perf_counter() - start
                if elapsed >= window_s:
                    break
        best = max(best, env_steps_per_call * calls / elapsed)
    return best


def check_cuda_matches_cpu(game: str, random_step_factory, num_envs: int = 512, steps: int = 48) -> bool:
    import torch

    from gantry_remote.envs import make_builtin
    from gantry_remote.envs.fused import random_actions

    cpu = make_builtin(game, num_envs, device="cpu", seed=7)
    gpu = make_builtin(game, num_envs, device="cuda", seed=7)
    gpu_random_step = random_step_factory(gpu)
    cpu_state, gpu_state = cpu._state, gpu._state
    for _ in range(steps):
        cpu_state, a = cpu._step_pure(cpu_state, random_actions(cpu, cpu_state))
        gpu_state, b = gpu_random_step(gpu_state)
        for field in ("obs", "reward", "terminated", "truncated", "episode_return", "episode_length"):
            if not torch.equal(getattr(a, field), getattr(b, field).cpu()):
                return False
    return True


def profile_cuda(games, size, steps=8):
    """Top CUDA kernels of `steps` compiled steps (no graph), to see where a step's time goes."""
    import torch

    from gantry_remote.envs import make_builtin
    from gantry_remote.envs.fused import compiled_random_step

    for game in games:
        env = make_builtin(game, size, device="cuda", seed=0)
        random_step = compiled_random_step(env)
        state = env._state
        for _ in range(3):
            state, _ = random_step(state)
        torch.cuda.synchronize()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            for _ in range(steps):
                state, _ = random_step(state)
            torch.cuda.synchronize()
        events = [e for e in prof.key_averages() if e.device_type == torch.autograd.DeviceType.CUDA]
        total = sum(e.self_device_time_total for e in events)
        kernels = sum(e.count for e in events)
        print("== %s @ %d envs: %.1f us/step, %.1f kernels/step" % (game, size, total / steps, kernels / steps))
        for e in sorted(events, key=lambda e: -e.self_device_time_total)[:12]:
            print("  %8.1f us/step  x%-4d %s" % (e.self_device_time_total / steps, e.count // steps, e.key[:110]))


def run_gymnax_peer(gymnax_root, games, sizes, steps_per_run, repeats, window_s, peer_out) -> dict:
    """bench_peer_gymnax.py in its own process (JAX and torch never share one), before any CUDA
    work of ours; returns its results. Rows it could not measure carry "error" and no rate."""
    command = [sys.executable, os.path.join(HERE, "bench_peer_gymnax.py"), "--gymnax", gymnax_root,
               "--games", ",".join(games), "--sizes", ",".join(str(s) for s in sizes),
               "--steps-per-launch", str(steps_per_run), "--repeats", str(repeats), "--window-s", str(window_s),
               "--out", peer_out]
    print("gymnax peer: %s" % " ".join(command), flush=True)
    code = subprocess.run(command).returncode
    if not os.path.exists(peer_out):
        raise SystemExit("the gymnax peer wrote no results (exit status %d); its output above says why" % code)
    with open(peer_out) as f:
        peer = json.load(f)
    if code != 0:
        print("warning: the gymnax peer exited with status %d; rows it could not measure get no ratio" % code, flush=True)
    return peer


def peer_rates(peer) -> dict:
    """(game, num_envs) -> gymnax steps/s for the rows the peer measured."""
    if not peer:
        return {}
    return {(r["game"], r["num_envs"]): r["steps_per_s"] for r in peer["rows"] if "steps_per_s" in r}


def bench_cuda(games, sizes, steps_per_run, repeats, window_s, out_path, results, dynamic=True):
    import torch

    from gantry_remote.envs import make_builtin
    from gantry_remote.envs.fused import FusedRandomRollout, compiled_random_step, eager_random_step

    for game in games:
        started = time.perf_counter()
        # dynamic=True: one compile per game serves every batch size (bounded compile time);
        # dynamic=False: kernels specialised per batch size, as a trainer with fixed --num-envs.
        factory = lambda env: compiled_random_step(env, dynamic=dynamic)  # noqa: E731
        mode = "compiled"
        try:
            # Checked at the first benchmark size so a static compile is shared with it.
            matches = check_cuda_matches_cpu(game, factory, num_envs=sizes[0])
        except Exception as error:  # fall back to CUDA graphs of the eager step, and say so
            print("%s: compiled step failed, measuring eager step in a CUDA graph: %r" % (game, error), flush=True)
            factory, mode = eager_random_step, "eager+graph"
            try:
                matches = check_cuda_matches_cpu(game, factory, num_envs=sizes[0])
            except Exception as second_error:
                matches = None
                print("%s: eager CUDA step failed too: %r" % (game, second_error), flush=True)
        print("%s: CUDA (%s) matches CPU: %s (%.0f s)" % (game, mode, matches, time.perf_counter() - started), flush=True)
        for size in sizes:
            row = {"game": game, "num_envs": size, "device": "cuda", "steps_per_launch": steps_per_run,
                   "cuda_matches_cpu": matches, "mode": mode}
            try:
                env = make_builtin(game, size, device="cuda", seed=0)
                rollout = FusedRandomRollout(env, steps_per_run=steps_per_run, random_step=factory(env))
                rollout.run()
                torch.cuda.synchronize()
                rate = best_rate(rollout.run, size * steps_per_run, repeats, window_s, torch.cuda.synchronize)
                row["steps_per_s"] = rate
                anchor = peer_rates(results.get("peer")).get((game, size))
                row["gymnax_steps_per_s"] = anchor
                row["vs_gymnax"] = rate / anchor if anchor else None
                row["peak_mem_gib"] = torch.cuda.max_memory_allocated() / 2**30
                del rollout, env
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            except Exception as error:
                row["error"] = repr(error)[:500]
            results["rows"].append(row)
            print(json.dumps(row), flush=True)
            save(results, out_path)
        print("%s done in %.0f s" % (game, time.perf_counter() - started), flush=True)


def bench_cpu(games, sizes, repeats, window_s, out_path, results):
    from gantry_remote.envs import make_builtin
    from gantry_remote.envs.fused import random_actions

    for game in games:
        for size in sizes:
            env = make_builtin(game, size, device="cpu", seed=0)

            def one_step(env=env):
                env.step(random_actions(env, env._state))

            for _ in range(20):
                one_step()
            rate = best_rate(one_step, size, repeats, window_s, lambda: None)
            row = {"game": game, "num_envs": size, "device": "cpu", "steps_per_s": rate}
            results["rows"].append(row)
            print(json.dumps(row), flush=True)
            save(results, out_path)


def save(results, out_path):
    if out_path:
        tmp = out_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=1)
        os.replace(tmp, out_path)


def fmt_rate(rate):
    if rate is None:
        return "-"
    return "%.1fM" % (rate / 1e6) if rate >= 1e6 else "%.0fk" % (rate / 1e3)


def to_markdown(results) -> str:
    rows = results["rows"]
    lines = [
        "",
        "### %s — %s" % (results["date"], results["machine"]),
        "",
        "`%s`" % results["command"],
        "",
    ]
    if results.get("compile"):
        lines += ["torch.compile shapes: %s" % results["compile"], ""]
    peer = results.get("peer")
    if peer:
        apis = sorted({r["api"] for r in peer["rows"] if "api" in r})
        lines += ["gymnax, same run: %s, `%s`, gymnax step API %s" % (peer["machine"], peer["command"], " / ".join(apis) or "-"), ""]
    sizes = sorted({r["num_envs"] for r in rows})
    if results["device"] == "cuda":
        header = "| game | " + " | ".join("%d envs (vs gymnax)" % s for s in sizes) + " | CUDA == CPU |"
    else:
        header = "| game | " + " | ".join("%d envs" % s for s in sizes) + " |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for game in GAMES:
        cells = []
        check = "-"
        for size in sizes:
            match = [r for r in rows if r["game"] == game and r["num_envs"] == size]
            if not match:
                cells.append("-")
                continue
            r = match[0]
            if "error" in r:
                cells.append("error")
                continue
            cell = fmt_rate(r["steps_per_s"])
            if r.get("vs_gymnax"):
                cell += " (%.2f×)" % r["vs_gymnax"]
            cells.append(cell)
            if r.get("cuda_matches_cpu") is not None:
                check = "yes" if r["cuda_matches_cpu"] else "NO"
        if all(c == "-" for c in cells):
            continue
        line = "| %s | %s |" % (game, " | ".join(cells))
        if results["device"] == "cuda":
            line += " %s |" % check
        lines.append(line)
    if peer:
        lines += ["", peer_markdown(peer, sizes), "", ratio_verdict(rows)]
    return "\n".join(lines) + "\n"


def ratio_verdict(rows) -> str:
    """Issue #16's goal 6 in one line: every game at least as fast as gymnax at every size."""
    rated = [r for r in rows if r.get("vs_gymnax")]
    unrated = ["%s @ %d" % (r["game"], r["num_envs"]) for r in rows if not r.get("vs_gymnax")]
    if not rated:
        return "No ratio: no row has both our rate and gymnax's."
    low = min(rated, key=lambda r: r["vs_gymnax"])
    line = "Lowest ratio %.2f× (%s @ %d envs): %s." % (
        low["vs_gymnax"], low["game"], low["num_envs"], "every rated row ≥ 1.0×" if low["vs_gymnax"] >= 1.0 else "below 1.0×")
    if unrated:
        line += " Without a ratio (error on either side): %s." % ", ".join(unrated)
    return line


def peer_markdown(peer, sizes) -> str:
    """The peer's raw steps/s, so each ratio can be checked against both numbers."""
    header = "| gymnax | " + " | ".join("%d envs" % s for s in sizes) + " |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for game in GAMES:
        cells = []
        for size in sizes:
            match = [r for r in peer["rows"] if r["game"] == game and r["num_envs"] == size]
            cells.append("-" if not match else "error" if "error" in match[0] else fmt_rate(match[0]["steps_per_s"]))
        if any(c != "-" for c in cells):
            lines.append("| %s | %s |" % (game, " | ".join(cells)))
    return "\n".join(lines)


def append_markdown(path: str, block: str) -> None:
    header = "# Benchmarks\n"
    section = "## Built-in environments (bench/bench_envs.py)"
    text = open(path).read() if os.path.exists(path) else header
    if section not in text:
        text = text.rstrip("\n") + "\n\n" + section + "\n\nEnv-only steps/s, random actions, best of 3 after warm-up.\n"
    # Insert at the end of our own section (before the next "## " heading, if any).
    start = text.index(section)
    next_heading = text.find("\n## ", start + len(section))
    end = len(text) if next_heading < 0 else next_heading + 1
    text = text[:end].rstrip("\n") + "\n" + block + ("\n" + text[end:] if next_heading >= 0 else "")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--games", default=",".join(GAMES))
    parser.add_argument("--sizes", default=None, help="comma list; default 1024,16384,131072 (cuda) or 64 (cpu)")
    parser.add_argument("--steps-per-launch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window-s", type=float, default=0.3)
    parser.add_argument("--out", default=None, help="write results JSON here")
    parser.add_argument("--append-md", default=None, help="append a results table to this markdown file")
    parser.add_argument("--render", default=None, help="only render an existing results JSON")
    parser.add_argument("--static", action="store_true", help="compile per batch size (dynamic=False)")
    parser.add_argument("--profile", action="store_true", help="print each game's top CUDA kernels instead")
    parser.add_argument("--gymnax", default=None, help="folder holding the gymnax package: run the gymnax peer first (CUDA only)")
    parser.add_argument("--peer-json", default=None, help="gymnax peer results written earlier by bench_peer_gymnax.py")
    args = parser.parse_args(argv)

    if args.render:
        results = json.load(open(args.render))
        block = to_markdown(results)
        print(block)
        if args.append_md:
            append_markdown(args.append_md, block)
        return 0

    if (args.gymnax or args.peer_json) and args.device != "cuda":
        parser.error("--gymnax/--peer-json compare CUDA rows (jit + scan against CUDA graphs); use --device cuda")
    if args.gymnax and args.peer_json:
        parser.error("give --gymnax (measure the peer now) or --peer-json (an earlier peer run), not both")
    if args.profile and (args.gymnax or args.peer_json):
        parser.error("--profile prints our kernels only; run it without --gymnax/--peer-json")
    games = [g for g in args.games.split(",") if g]
    default_sizes = "1024,16384,131072" if args.device == "cuda" else "64"
    sizes = [int(s) for s in (args.sizes or default_sizes).split(",")]
    peer = None
    if args.gymnax:  # first, before this process touches CUDA, so JAX gets the GPU to itself
        peer_out = args.out + ".gymnax.json" if args.out else os.path.join(tempfile.mkdtemp(), "gymnax.json")
        peer = run_gymnax_peer(args.gymnax, games, sizes, args.steps_per_launch, args.repeats, args.window_s, peer_out)
    elif args.peer_json:
        with open(args.peer_json) as f:
            peer = json.load(f)
    results = {
        "device": args.device,
        "machine": machine_description(args.device),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python3 ../bench/bench_envs.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "rows": [],
    }
    if peer:
        results["peer"] = peer
    if args.profile:
        profile_cuda(games, sizes[0])
        return 0
    if args.device == "cuda":
        results["compile"] = "static" if args.static else "dynamic"
        bench_cuda(games, sizes, args.steps_per_launch, args.repeats, args.window_s, args.out, results, dynamic=not args.static)
    else:
        bench_cpu(games, sizes, args.repeats, args.window_s, args.out, results)
    block = to_markdown(results)
    print(block)
    if args.append_md:
        append_markdown(args.append_md, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
