"""Where one trainer's iteration spends its time on the GPU: a torch.profiler timeline of the real trainer step.

    python3 bench/bench_gpu_profile.py --game breakout --device cuda --out $OUT/gpu_profile.json     # the GPU machine
    python3 bench/bench_gpu_profile.py --game breakout --device cuda --trainer-arg amp=true
    python3 bench/bench_gpu_profile.py --device cpu --iterations 1 --trainer-arg num_envs=8 \\
        --trainer-arg num_steps=16 --trainer-arg minibatch_size=64                                  # CPU smoke

What runs is the trainer's own step, built from its own pieces as `python -m gantry_remote train` builds them
(ppo.parse_args with the trainer's defaults, backends.make_env, nets.make_agent, ppo.make_optimizer,
ppo.make_step_functions: the same policy step and PPO loss, fast_path's RolloutBuffers, collect_rollout,
compute_gae, update_epoch and GraphedPPO): a first iteration eager, then on a GPU the CUDA-graph capture and
one replayed iteration as warm-up, as the trainer does. Then `--iterations` iterations are timed without the
profiler, and `--iterations` more under it (after one traced and discarded: the profiler's own warm-up).
An iteration is what the trainer's loop does per rollout: the rollout (on a GPU one graph replay: num_steps
policy steps and env steps, then GAE), the one host copy of the episode statistics, then `update_epochs`
epochs (each one graph replay: a permutation and every minibatch's loss, backward, grad clip and Adam step).
Only built-in games: their envs step on the device.

Reported per iteration, for the iteration and its two phases (rollout: rollout + episode copy + GAE;
update: the epochs):
- wall ms: the phase's range on the host clock. Each phase ends with a device synchronize (the rollout's
  episode copy already waits for the rollout; the one added after the update costs the trainer's overlap of
  the next rollout's launch, a few microseconds), so each phase's GPU work lies inside its host range and
  is attributed to it by time window on the profiler's common timeline: the launches come after the range
  opens, the synchronize waits for the last kernel before it closes. No correlation ids are needed, which
  graph replays (one launch for thousands of kernels) would make ambiguous.
- busy ms and busy fraction: the union of the GPU activity intervals (kernels, memcpy, memset, on every
  stream) inside the range, over the range's wall time: the share of the time at least one thing ran on
  the GPU. A union, not a sum: copies can overlap kernels, and a sum would count that twice.
- kernels per iteration, kernel ms (their summed durations), mean kernel µs, memcpy bytes.
- SM coverage (GPU only): the kernel-time-weighted mean of min(1, blocks per SM) from the profiler's kernel
  records (blocks per SM = grid blocks / the GPU's SM count): below 1, a kernel had fewer blocks than the
  GPU has SMs and left some idle while it ran. Occupancy: the time-weighted "est. achieved occupancy %".
- the top 10 kernels by total time: count and ms per iteration, share of kernel time.
On a CPU (no kernels) the same table counts CPU ops instead: the innermost ones (a profiled op that
contains no other op on its thread), so nested ops are not counted twice; busy is their union.

Reading it against the MPS scaling table (BENCHMARKS.md, "Where six clients lose their speed under MPS":
one trainer alone 1.00, then per client 0.84 / 0.67 / 0.58 / 0.43 with 1 / 2 / 3 / 6 clients, six giving
2.56x one alone). A busy fraction f means the GPU idles (1 - f) of a lone trainer's time, between dependent
kernels. If every kernel filled every SM, N clients could at most fill those gaps: total at most 1/f x one
client, and each client slows once N x f passes 1. With f near 1/2.56 = 0.39 that reading holds, and what
raises the ratio is less GPU time per step (fewer and shorter kernels: the top kernels and the update
phase's share say where). With f well above 0.39, six clients already ran kernels side by side and were
held back by sharing SMs or memory bandwidth; an SM coverage well below 1 says the kernels leave SMs free,
so the limit is elsewhere (memory, MPS's own cost of 16 % measured with one client). The profiled wall time
is next to the unprofiled one: the profiler adds per-kernel tracing cost, so compare fractions, not ms.

`--trace FILE` keeps the raw Chrome trace (chrome://tracing, ui.perfetto.dev); `--out FILE.json` the figures.
"""
import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from torch.profiler import ProfilerActivity, profile, record_function, schedule

REMOTE = Path(__file__).resolve().parents[1] / "remote"
sys.path.insert(0, str(REMOTE))

from gantry_remote import dynamo_free  # noqa: E402
from gantry_remote.backends import make_env  # noqa: E402
from gantry_remote.fast_path import (  # noqa: E402
    GraphedPPO,
    RolloutBuffers,
    collect_rollout,
    compute_gae,
    update_epoch,
)
from gantry_remote.nets import make_agent  # noqa: E402
from gantry_remote.ppo import (  # noqa: E402
    Args,
    make_optimizer,
    make_step_functions,
    parse_args,
    resolve_device,
    seed_and_set_matmul,
    wants_cuda_graphs,
)

PHASES = ("iteration", "rollout", "update")
RANGE_PREFIX = "gantry."  # record_function names, apart from torch's own ranges
GPU_WORK = ("kernel", "gpu_memcpy", "gpu_memset")
TOP = 10
NAME_WIDTH = 60
NESTING_SLACK_US = 0.01  # the trace's microsecond floats may put a child's end a rounding past its parent's

Interval = Tuple[float, float]


# ----------------------------------------------------------------------------------------------
# Intervals
# ----------------------------------------------------------------------------------------------
def union_length(intervals: Iterable[Interval]) -> float:
    """Total length covered by (start, end) intervals: overlapping and nested ones count once."""
    total = 0.0
    current_start = current_end = None
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_end is not None:
        total += current_end - current_start
    return total


def clipped(intervals: Iterable[Interval], window: Interval) -> List[Interval]:
    lo, hi = window
    return [(max(s, lo), min(e, hi)) for s, e in intervals if e > lo and s < hi]


# ----------------------------------------------------------------------------------------------
# The trace: what ran, and which range it belongs to
# ----------------------------------------------------------------------------------------------
def innermost_ops(ops: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """CPU ops that contain no other op on their thread (the CPU's analogue of a kernel)."""
    by_thread: Dict[Any, List[Dict[str, Any]]] = defaultdict(list)
    for op in ops:
        by_thread[(op.get("pid"), op.get("tid"))].append(op)
    leaves = []
    for thread_ops in by_thread.values():
        thread_ops.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack: List[Dict[str, Any]] = []
        has_child = set()
        for op in thread_ops:
            end = op["ts"] + op["dur"]
            while stack and stack[-1]["ts"] + stack[-1]["dur"] < end - NESTING_SLACK_US:
                stack.pop()  # op does not fit inside it: that op (and what it held) is over
            if stack:
                has_child.add(id(stack[-1]))
            stack.append(op)
        leaves.extend(op for op in thread_ops if id(op) not in has_child)
    return leaves


def work_events(events: List[Dict[str, Any]], on_gpu: bool) -> List[Dict[str, Any]]:
    complete = [e for e in events if e.get("ph") == "X" and "ts" in e and "dur" in e]
    if on_gpu:
        return [e for e in complete if e.get("cat") in GPU_WORK]
    return innermost_ops([e for e in complete if e.get("cat") == "cpu_op"])


def ranges(events: List[Dict[str, Any]], phase: str) -> List[Interval]:
    name = RANGE_PREFIX + phase
    return sorted((e["ts"], e["ts"] + e["dur"]) for e in events
                  if e.get("ph") == "X" and e.get("cat") == "user_annotation" and e.get("name") == name)


def is_kernel(event: Dict[str, Any], on_gpu: bool) -> bool:
    return event.get("cat") == "kernel" if on_gpu else True


def in_windows(event: Dict[str, Any], windows: Sequence[Interval]) -> bool:
    return any(lo <= event["ts"] < hi for lo, hi in windows)


def phase_figures(work: List[Dict[str, Any]], windows: List[Interval], on_gpu: bool) -> Dict[str, Any]:
    """Per-iteration means over `windows` (one per profiled iteration) of what ran inside them."""
    n = len(windows)
    inside = [e for e in work if in_windows(e, windows)]
    kernels = [e for e in inside if is_kernel(e, on_gpu)]
    copies = [e for e in inside if e.get("cat") == "gpu_memcpy"]
    wall = sum(hi - lo for lo, hi in windows)
    busy = sum(union_length(clipped([(e["ts"], e["ts"] + e["dur"]) for e in inside], w)) for w in windows)
    kernel_us = sum(e["dur"] for e in kernels)
    return {
        "wall_ms": wall / n / 1e3,
        "busy_ms": busy / n / 1e3,
        "busy_fraction": busy / wall if wall > 0 else 0.0,
        "count": len(kernels) / n,
        "kernel_ms": kernel_us / n / 1e3,
        "mean_kernel_us": kernel_us / len(kernels) if kernels else 0.0,
        "memcpy_count": len(copies) / n,
        "memcpy_bytes": sum(int((e.get("args") or {}).get("bytes", 0)) for e in copies) / n,
        "sm_coverage": weighted_arg(kernels, "blocks per SM", cap=1.0) if on_gpu else None,
        "occupancy_pct": weighted_arg(kernels, "est. achieved occupancy %") if on_gpu else None,
    }


def weighted_arg(kernels: List[Dict[str, Any]], key: str, cap: Optional[float] = None) -> Optional[float]:
    """The kernel-time-weighted mean of a numeric kernel record field; None when no kernel has it."""
    total = weight = 0.0
    for e in kernels:
        value = (e.get("args") or {}).get(key)
        if isinstance(value, (int, float)) and e["dur"] > 0:
            total += (min(value, cap) if cap is not None else value) * e["dur"]
            weight += e["dur"]
    return total / weight if weight else None


def top_kernels(work: List[Dict[str, Any]], windows: List[Interval], on_gpu: bool, limit: int = TOP) -> List[Dict[str, Any]]:
    n = len(windows)
    by_name: Dict[str, List[float]] = defaultdict(lambda: [0, 0.0])
    for e in work:
        if is_kernel(e, on_gpu) and in_windows(e, windows):
            entry = by_name[e.get("name", "?")]
            entry[0] += 1
            entry[1] += e["dur"]
    total = sum(us for _, us in by_name.values())
    rows = [{"name": name, "count": count / n, "ms": us / n / 1e3, "share": us / total if total else 0.0}
            for name, (count, us) in by_name.items()]
    return sorted(rows, key=lambda r: -r["ms"])[:limit]


def summarize(trace: Dict[str, Any], on_gpu: bool) -> Dict[str, Any]:
    """The figures of a Chrome trace whose iterations and phases are gantry.* record_function ranges."""
    events = trace.get("traceEvents", [])
    # Microseconds since the trace's first event: the absolute ones (~1e12) lose float precision in ts + dur.
    origin = min((e["ts"] for e in events if isinstance(e.get("ts"), (int, float))), default=0)
    events = [dict(e, ts=e["ts"] - origin) if isinstance(e.get("ts"), (int, float)) else e for e in events]
    work = work_events(events, on_gpu)
    windows = {phase: ranges(events, phase) for phase in PHASES}
    iterations = windows["iteration"]
    if not iterations:
        raise SystemExit("the trace holds no %siteration range: the profiler recorded nothing" % RANGE_PREFIX)
    for phase in PHASES[1:]:
        if len(windows[phase]) != len(iterations):
            raise SystemExit("the trace holds %d %s ranges for %d iterations" % (len(windows[phase]), phase, len(iterations)))
    return {
        "phases": {phase: phase_figures(work, windows[phase], on_gpu) for phase in PHASES},
        "per_iteration": [phase_figures(work, [w], on_gpu) for w in iterations],
        "top": top_kernels(work, iterations, on_gpu),
    }


# ----------------------------------------------------------------------------------------------
# The trainer's step
# ----------------------------------------------------------------------------------------------
class TrainerStep:
    """One trainer iteration, from the trainer's own pieces (see the module docstring)."""

    def __init__(self, args: Args):
        if args.backend != "builtin":
            raise SystemExit("bench_gpu_profile profiles the built-in games (their envs step on the device), not "
                             "--backend %s" % args.backend)
        self.args = args
        self.device = device = resolve_device(args.device)
        self.use_graphs = wants_cuda_graphs(args, device)
        seed_and_set_matmul(args.seed, device)
        if device.type == "cuda":
            torch.cuda.init()
        cores = sorted(os.sched_getaffinity(0))
        torch.set_num_threads(len(cores))
        self.env = make_env(args.backend, args.game, args.num_envs, str(device), args.seed, compile=args.compile,
                            sticky_actions=args.sticky_actions, num_threads=len(cores))
        self.agent = make_agent(self.env.obs_shape, self.env.num_actions).to(device)
        if not args.compile:
            dynamo_free.enable()
        self.optimizer = make_optimizer(args, self.agent, device, self.use_graphs)
        self.policy_step, self.bootstrap_value, self.minibatch_loss = make_step_functions(args, self.agent, device)
        self.next_obs = self.env.reset()
        self.next_done = torch.zeros(args.num_envs, dtype=torch.bool, device=device)
        self.buf = RolloutBuffers.allocate(args.num_steps, args.num_envs, self.env.obs_shape, self.next_obs.dtype, device)
        self.batch_size = args.num_steps * args.num_envs
        self.minibatch_size = min(args.minibatch_size, self.batch_size)
        self.graphs: Optional[GraphedPPO] = None
        self.episodes = 0

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def rollout(self) -> None:
        if self.graphs is not None:
            self.graphs.rollout()
        else:
            self.env._state, self.next_obs, self.next_done = collect_rollout(
                self.env._step_fn, self.env._state, self.next_obs, self.next_done, self.policy_step, self.buf)
        finished = self.buf.ep_return[self.buf.ended].cpu()  # the trainer's one host copy per rollout
        self.episodes += int(finished.numel())
        if self.graphs is None:
            _, returns = compute_gae(self.buf.rewards, self.buf.values, self.buf.dones, self.bootstrap_value(self.next_obs),
                                     self.next_done, self.args.gamma, self.args.gae_lambda, out=self.buf.advantages)
            self.buf.returns.copy_(returns)

    def update(self) -> None:
        for _ in range(self.args.update_epochs):
            if self.graphs is not None:
                losses = self.graphs.update_epoch()
            else:
                losses = update_epoch(self.agent, self.optimizer, self.minibatch_loss, self.buf.flat_batch(),
                                      torch.randperm(self.batch_size, device=self.device), self.minibatch_size,
                                      self.args.max_grad_norm)
            if self.args.target_kl is not None and float(losses[3]) > self.args.target_kl:
                break

    def iteration(self) -> None:
        with record_function(RANGE_PREFIX + "iteration"):
            with record_function(RANGE_PREFIX + "rollout"):
                self.rollout()
                self.sync()
            with record_function(RANGE_PREFIX + "update"):
                self.update()
                self.sync()

    def capture(self) -> float:
        """After the first (eager) iteration, as the trainer: cuDNN autotuning on, then the graphs."""
        started = time.perf_counter()
        torch.backends.cudnn.benchmark = True
        a = self.args
        self.graphs = GraphedPPO(self.env, self.agent, self.optimizer, num_steps=a.num_steps,
                                 minibatch_size=self.minibatch_size, gamma=a.gamma, gae_lambda=a.gae_lambda,
                                 max_grad_norm=a.max_grad_norm, policy_step=self.policy_step,
                                 bootstrap_value=self.bootstrap_value, minibatch_loss=self.minibatch_loss,
                                 next_obs=self.next_obs, next_done=self.next_done)
        self.next_obs, self.next_done = self.graphs.next_obs, self.graphs.next_done
        self.buf = self.graphs.buffers
        return time.perf_counter() - started


# ----------------------------------------------------------------------------------------------
# Running it and reporting
# ----------------------------------------------------------------------------------------------
def trainer_argv(game: str, device: str, items: List[str], run_dir: str) -> List[str]:
    """The trainer's own command line for --trainer-arg KEY=VALUE items (true/false: a flag on or off)."""
    argv = ["--game", game, "--device", device, "--run-dir", run_dir, "--no-export"]
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit("--trainer-arg wants KEY=VALUE, got %r" % item)
        flag = "--" + key.replace("_", "-")
        if value.lower() in ("true", "false"):
            argv.append(flag if value.lower() == "true" else "--no-" + flag[2:])
        else:
            argv += [flag, value]
    return argv


def profile_trainer(args: Args, iterations: int, trace_path: Optional[str]) -> Dict[str, Any]:
    step = TrainerStep(args)
    on_gpu = step.device.type == "cuda"
    started = time.perf_counter()
    step.iteration()  # eager, as the trainer's first iteration
    first_s = time.perf_counter() - started
    capture_s = None
    if step.use_graphs:
        capture_s = step.capture()
        step.iteration()  # the first replay uploads the graphs
    unprofiled = []
    for _ in range(iterations):
        started = time.perf_counter()
        step.iteration()
        unprofiled.append((time.perf_counter() - started) * 1e3)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_gpu else [])
    with tempfile.TemporaryDirectory() as tmp:
        path = trace_path or os.path.join(tmp, "trace.json")
        # One traced iteration first, thrown away: the profiler's own start-up (CUPTI's buffers) lands there.
        with profile(activities=activities, schedule=schedule(wait=0, warmup=1, active=iterations, repeat=1)) as prof:
            for _ in range(1 + iterations):
                step.iteration()
                prof.step()
        prof.export_chrome_trace(path)
        with open(path) as f:
            trace = json.load(f)
    figures = summarize(trace, on_gpu)
    warnings = []
    if on_gpu and figures["phases"]["iteration"]["count"] == 0:
        warnings.append("no CUDA kernel in the trace: the profiler's CUDA activity (CUPTI) recorded nothing on this host")
    return {
        "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "game": args.game,
        "device": str(step.device),
        "device_name": torch.cuda.get_device_name(step.device) if on_gpu else "CPU",
        "torch": torch.__version__,
        "cuda_graphs": step.use_graphs,
        "unit": "CUDA kernel" if on_gpu else "CPU op (innermost)",
        "iterations": iterations,
        "trainer_args": {k: v for k, v in vars(args).items() if k != "run_dir"},
        "steps_per_iteration": step.batch_size,
        "first_iteration_s": first_s,
        "capture_s": capture_s,
        "wall_unprofiled_ms": unprofiled,
        "episodes": step.episodes,
        "warnings": warnings,
        **figures,
    }


def optional(value: Optional[float], fmt: str) -> str:
    return "-" if value is None else fmt % value


def table(result: Dict[str, Any]) -> List[str]:
    a = result["trainer_args"]
    kernels = "kernels" if result["unit"] == "CUDA kernel" else "CPU ops"
    unprofiled = statistics.median(result["wall_unprofiled_ms"])
    lines = [
        "### bench_gpu_profile — %s on %s (%s), %s, torch %s" % (
            result["game"], result["device"], result["device_name"], result["when"], result["torch"]),
        "",
        "%d envs x %d steps, %d epochs, minibatch %d, amp %s, CUDA graphs %s; %d iterations profiled; "
        "wall per iteration without the profiler %.1f ms (median), %.0f steps/s"
        % (a["num_envs"], a["num_steps"], a["update_epochs"], a["minibatch_size"], a["amp"],
           "on" if result["cuda_graphs"] else "off", result["iterations"], unprofiled,
           result["steps_per_iteration"] / (unprofiled / 1e3)),
        "",
        "| phase | wall ms | busy ms | busy fraction | %s | %s ms | mean µs | memcpy bytes | SM coverage | occupancy %% |"
        % (kernels, kernels),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for phase, f in result["phases"].items():
        lines.append("| %s | %.2f | %.2f | %.3f | %.0f | %.2f | %.1f | %.0f | %s | %s |" % (
            phase, f["wall_ms"], f["busy_ms"], f["busy_fraction"], f["count"], f["kernel_ms"], f["mean_kernel_us"],
            f["memcpy_bytes"], optional(f["sm_coverage"], "%.2f"), optional(f["occupancy_pct"], "%.1f")))
    lines += ["", "(per iteration; each profiled iteration: %s)" % ", ".join(
        "%.1f ms, busy %.3f" % (f["wall_ms"], f["busy_fraction"]) for f in result["per_iteration"]), "",
        "| top %s | count | ms | share |" % kernels, "| --- | ---: | ---: | ---: |"]
    for row in result["top"]:
        name = row["name"] if len(row["name"]) <= NAME_WIDTH else row["name"][:NAME_WIDTH - 1] + "…"
        lines.append("| `%s` | %.0f | %.3f | %.1f %% |" % (name.replace("|", "\\|").replace("`", "'"), row["count"],
                                                         row["ms"], 100 * row["share"]))
    lines += ["", *("warning: " + w for w in result["warnings"])]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", default="breakout", help="a built-in game")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N, as the trainer's --device")
    parser.add_argument("--iterations", type=int, default=3, help="iterations timed, then as many profiled")
    parser.add_argument("--trainer-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="a trainer setting (num_envs=8, amp=true, cuda_graphs=false, ...), repeatable")
    parser.add_argument("--out", help="write the figures as JSON to this file")
    parser.add_argument("--trace", help="keep the raw Chrome trace in this file")
    opts = parser.parse_args()
    if opts.iterations < 1:
        parser.error("--iterations must be at least 1")
    with tempfile.TemporaryDirectory() as run_dir:  # the trainer's parser wants one; nothing is written there
        args = parse_args(trainer_argv(opts.game, opts.device, opts.trainer_arg, run_dir))
        result = profile_trainer(args, opts.iterations, opts.trace)
    print("\n".join(table(result)))
    if opts.out:
        Path(opts.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
