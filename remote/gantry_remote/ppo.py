"""PPO trainer for pixel games, in the CleanRL spirit: one file, read top to bottom.

    python3 -m gantry_remote train --game breakout --backend builtin --run-dir DIR --target-episodes 500

What CleanRL's ppo_atari_envpool.py does (Nature CNN, GAE, clipped policy and value losses,
advantage normalisation, LR annealing, optional early stop on a target KL), plus what a trainer
left alone on a rented GPU for three days needs: crash-safe checkpoints with exact resume,
SIGTERM -> checkpoint -> exit 0, ONNX export with a probe pair, JSON-lines metrics, and an
episode target. The files it writes are described in remote/PROTOCOL.md.

On a GPU with the built-in games the whole rollout stays on the device: actions are sampled
with the Gumbel-max trick (no host sync), episode statistics are gathered in device buffers and
copied to the host once per rollout. There, by default, the rollout (+ GAE) and each update epoch
are also captured as CUDA graphs and replayed (fast_path.py): the same functions as the eager
loop below, minus the per-kernel launch cost that otherwise bounds a single trainer. With Atari
(ale, envpool) on a GPU the emulators run on the CPU, so the rollout stays the eager loop below
and, by default, only the update epochs are captured and replayed.
"""
import argparse
import ast
import dataclasses
import importlib.util
import inspect
import json
import math
import os
import random
import signal
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from . import atomic, dynamo_free
from .backends import BACKENDS, STICKY_DEFAULT, make_env
from .checkpoint import load_latest_checkpoint, prepare_checkpoints, save_checkpoint
from .cpus import format_cpu_list
from .cuda_early import EarlyContext
from .eval_recording import record_for_export
from .export import export_policy
from .fast_path import (
    GraphedPPO,
    GraphedUpdate,
    RolloutBuffers,
    can_use_graphs,
    compute_gae,
    env_rollout,
    learning_rate,
    load_optimizer_state,
    portable_optimizer_state,
    set_learning_rate,
    update_epoch,
)
from .nets import make_agent
from .startup_clock import StartupClock
from .tensor_tree import clone_tree
from .thumbnail import ThumbnailWriter
from .trainer_files import EXPORT_ON_STOP

CHECKPOINT_FORMAT = 1


# ----------------------------------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------------------------------
@dataclass
class Args:
    game: str = "breakout"
    """game to train: a built-in game name (breakout, ...) or an Atari name (MsPacman, Pong, ...)"""
    backend: str = "builtin"
    """environment backend: envpool | ale | builtin"""
    run_dir: str = ""
    """directory for metrics.jsonl, ckpt/, models/ and completed.json (required)"""
    target_episodes: int = 0
    """stop after this many complete episodes (real game overs); 0 = no episode target"""
    total_steps: int = 0
    """stop after this many environment steps; 0 = no step limit (also the LR annealing horizon)"""
    seed: int = 1
    """seed for torch and the environments"""
    device: str = "auto"
    """auto (cuda when available, else cpu) | cpu | cuda | cuda:N"""
    resume: bool = False
    """continue from the newest good checkpoint in run_dir/ckpt when there is one"""
    sticky_actions: Optional[float] = None
    """probability that the game repeats the previous action instead of the chosen one (Machado et al.
    2018). Unset: the backend's default, backends.STICKY_DEFAULT (0.1 for built-in games as in MinAtar, 0.25
    for ale as ALE v5, 0 for envpool as CleanRL's tables); the value used is logged and checkpointed.
    gymnax, whose PPO returns the learning check compares with, uses 0"""

    num_envs: int = 256
    """parallel environments"""
    num_steps: int = 128
    """steps per environment per rollout"""
    minibatch_size: Optional[int] = None
    """samples per gradient step. Unset: 1024 for the built-in games, 256 for Atari: one gradient step per 64
    samples of the default 256 envs x 128 steps, as CleanRL's ppo_atari (8 envs x 128 steps in 4 minibatches),
    instead of one per 256. Measured on real Breakout (sticky 0, seed 1, H200, 2026-12-01): mean return
    85/122/150/204/237 at 3/4/5/6/7M steps and 257 at 7.63M with 256, against 100 at 5.05M, 150 at 6.49M and
    164 at 6.62M with 1024 (2026-11-30). The update epochs are captured as CUDA graphs on a GPU, so the four
    times more gradient steps stay cheap"""
    update_epochs: Optional[int] = None
    """passes over each rollout. Unset: 8 for the built-in games (with MinAtar's sticky actions, 4 left
    Breakout below gymnax's PPO return on 3 of 3 seeds and 8 passes it on 3 of 3, BENCHMARKS.md), 4 for
    Atari (CleanRL's ppo_atari)"""
    learning_rate: Optional[float] = None
    """Adam learning rate, annealed linearly to 0 over total_steps when both are set. Unset: 5e-4 for the
    built-in games (learns Breakout and SpaceInvaders past gymnax's PPO returns, BENCHMARKS.md), 2.5e-4
    for Atari (CleanRL's ppo_atari)"""
    anneal_lr: bool = True
    """anneal the learning rate linearly to 0 at total_steps (needs total_steps > 0)"""
    gamma: float = 0.99
    """discount factor"""
    gae_lambda: float = 0.95
    """lambda of generalised advantage estimation"""
    clip_coef: Optional[float] = None
    """PPO surrogate and value clipping coefficient. Unset: 0.2 for the built-in games, 0.1 for Atari"""
    clip_vloss: bool = True
    """clip the value loss like the policy loss"""
    norm_adv: bool = True
    """normalise advantages per minibatch"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    vf_coef: float = 0.5
    """value loss coefficient"""
    max_grad_norm: float = 0.5
    """global gradient norm clip"""
    target_kl: Optional[float] = None
    """stop the update epochs early when the approximate KL exceeds this (off when unset)"""

    checkpoint_minutes: float = 10.0
    """minutes between checkpoints (also on SIGTERM and at the end)"""
    export_minutes: float = 30.0
    """minutes between ONNX exports (also at the end)"""
    export: bool = True
    """export ONNX models; --no-export only for benchmarks on hosts without the onnx package"""
    metrics_seconds: float = 5.0
    """seconds between metrics.jsonl lines"""
    thumbnail_seconds: float = 3.0
    """seconds between thumbnail.png pictures of env 0 for the desktop's game card (0: none)"""
    amp: bool = False
    """bfloat16 autocast for forward passes on CUDA"""
    compile: bool = False
    """torch.compile the policy step and the loss (pays on GPU for long runs)"""
    cuda_graphs: Optional[bool] = None
    """capture the update epochs as CUDA graphs, and for the built-in games (which step on the device) the
    rollout too. Unset: on for a CUDA device without --compile; needs a CUDA device"""
    overlap_rollout: bool = False
    """ale backend: step the env pool as two halves, one half's policy forward running while the other half's
    emulators step (envs/atari.py AleAtariHalves: the same games and rollout buffers). Off until measured on a
    GPU host (bench/bench_atari_rollout.py)"""


def _field_docs(cls: type) -> Dict[str, str]:
    """The string literal under each dataclass field, CleanRL style, used as argparse help."""
    try:
        tree = ast.parse(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, following in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr):
            value = getattr(following, "value", None)
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docs[node.target.id] = value.value  # type: ignore[attr-defined]
    return docs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m gantry_remote train", description="PPO trainer (see remote/PROTOCOL.md)",
        allow_abbrev=False,  # a mistyped flag must fail, not silently match a longer one
    )
    docs = _field_docs(Args)
    hints = {"update_epochs": int, "minibatch_size": int, "target_kl": float, "sticky_actions": float,
             "learning_rate": float, "clip_coef": float}
    for field in dataclasses.fields(Args):
        flag = "--" + field.name.replace("_", "-")
        help_text = docs.get(field.name, "")
        if field.type in (bool, "bool", Optional[bool]):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=field.default, help=help_text)
        else:
            type_name = str(getattr(field.type, "__name__", field.type))
            kind = hints.get(field.name) or {"int": int, "float": float, "str": str}.get(type_name, str)
            parser.add_argument(flag, type=kind, default=field.default, help=help_text + " (default: %(default)s)")
    return parser


def parse_args(argv: List[str]) -> Args:
    parser = build_parser()
    ns = parser.parse_args(argv)  # unknown flags -> "unrecognized arguments: ..." and exit 2
    args = Args(**vars(ns))
    if not args.run_dir:
        parser.error("--run-dir is required")
    if args.backend not in BACKENDS:
        parser.error("--backend must be one of %s, not '%s'" % (", ".join(BACKENDS), args.backend))
    grid = args.backend == "builtin"
    if args.update_epochs is None:
        args.update_epochs = 8 if grid else 4
    if args.minibatch_size is None:
        args.minibatch_size = 1024 if grid else 256
    for name in ("num_envs", "num_steps", "minibatch_size", "update_epochs"):
        if getattr(args, name) < 1:
            parser.error("--%s must be at least 1" % name.replace("_", "-"))
    if args.overlap_rollout and (args.backend != "ale" or args.num_envs < 2):
        parser.error("--overlap-rollout needs --backend ale and at least 2 envs")
    if args.sticky_actions is None:
        args.sticky_actions = STICKY_DEFAULT[args.backend]
    if not 0.0 <= args.sticky_actions <= 1.0:
        parser.error("--sticky-actions is a probability between 0 and 1, not %g" % args.sticky_actions)
    if args.learning_rate is None:
        args.learning_rate = 5e-4 if grid else 2.5e-4
    if args.clip_coef is None:
        args.clip_coef = 0.2 if grid else 0.1
    if args.learning_rate <= 0 or args.clip_coef <= 0:
        parser.error("--learning-rate and --clip-coef must be positive")
    return args


def resolve_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device %s was requested but CUDA is not available on this host; use --device cpu or auto" % requested)
    return device


def log(message: str) -> None:
    """train.log is this process's stdout (the supervisor redirects it); flush so tails are live."""
    print("[%s] %s" % (time.strftime("%Y-%m-%d %H:%M:%S"), message), flush=True)


# ----------------------------------------------------------------------------------------------
# Small helpers: sampling without host syncs, RNG and env-state snapshots
# ----------------------------------------------------------------------------------------------
def sample_actions(logits: torch.Tensor):
    """Gumbel-max sampling: same distribution as Categorical.sample(), no device->host sync."""
    log_probs = F.log_softmax(logits.float(), dim=-1)
    uniform = torch.rand_like(log_probs).clamp_(1e-20, 1.0)
    actions = torch.argmax(log_probs - torch.log(-torch.log(uniform)), dim=-1)
    return actions, log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def evaluate_actions(logits: torch.Tensor, actions: torch.Tensor):
    log_probs = F.log_softmax(logits.float(), dim=-1)
    entropy = -(log_probs.exp() * log_probs).sum(-1)
    return log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1), entropy


def rng_state(device: torch.device) -> Dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]), "python_version": random.getstate()[0]}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: Dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate((state["python_version"], tuple(state["python"]), None))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class StopFlag:
    """SIGTERM/SIGINT set a flag; the loop finishes or abandons the current rollout safely."""

    def __init__(self):
        self.requested = False
        self.signal_name = ""
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def _handle(self, signum, _frame):
        self.requested = True
        self.signal_name = signal.Signals(signum).name

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def seed_and_set_matmul(seed: int, device: torch.device) -> None:
    """Seed Python, NumPy and torch; on CUDA allow TF32 matmuls and convolutions. (cudnn.benchmark,
    autotuning each new convolution shape, is turned on after the first update: see the main loop.)"""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def wants_cuda_graphs(args: Args, device: torch.device) -> bool:
    """--cuda-graphs as asked, else on for a CUDA device without --compile."""
    use_graphs = args.cuda_graphs
    if use_graphs is None:
        use_graphs = device.type == "cuda" and not args.compile
    if use_graphs and device.type != "cuda":
        raise ValueError("--cuda-graphs needs a CUDA device (--device cuda or auto on a GPU host); drop the flag "
                         "or use --no-cuda-graphs")
    return use_graphs


def make_optimizer(args: Args, agent: torch.nn.Module, device: torch.device, use_graphs: bool) -> torch.optim.Adam:
    """Adam, fused on CUDA, capturable when the update epochs are captured as CUDA graphs."""
    return torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5, fused=device.type == "cuda",
                            capturable=use_graphs)


def make_step_functions(args: Args, agent: torch.nn.Module, device: torch.device) -> Tuple[Callable, Callable, Callable]:
    """The trainer's policy_step(obs) -> (action, logprob, value), bootstrap_value(obs) -> value and
    minibatch_loss(obs, actions, logprobs, advantages, returns, values) -> (loss, stats[5]) for `agent`:
    what the eager loop and the CUDA graphs run (bench/bench_gpu_profile.py profiles these same ones)."""
    # No autocast weight cache: it would hand a captured graph tensors freed after capture.
    amp = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.amp and device.type == "cuda", cache_enabled=False)

    def policy_step(obs):
        with torch.no_grad(), amp:
            logits, value = agent(obs)
        action, logprob = sample_actions(logits)
        return action, logprob, value.float()

    def bootstrap_value(obs):
        with torch.no_grad(), amp:
            return agent.value(obs).float()

    def minibatch_loss(mb_obs, mb_actions, mb_logprobs, mb_advantages, mb_returns, mb_values):
        with amp:
            logits, new_value = agent(mb_obs)
        new_logprob, entropy = evaluate_actions(logits, mb_actions)
        new_value = new_value.float()
        log_ratio = new_logprob - mb_logprobs
        ratio = log_ratio.exp()
        with torch.no_grad():
            approx_kl = ((ratio - 1) - log_ratio).mean()
            clipfrac = ((ratio - 1.0).abs() > args.clip_coef).float().mean()
        if args.norm_adv:
            mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
        pg_loss = torch.max(-mb_advantages * ratio, -mb_advantages * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
        if args.clip_vloss:
            v_clipped = mb_values + (new_value - mb_values).clamp(-args.clip_coef, args.clip_coef)
            v_loss = 0.5 * torch.max((new_value - mb_returns) ** 2, (v_clipped - mb_returns) ** 2).mean()
        else:
            v_loss = 0.5 * ((new_value - mb_returns) ** 2).mean()
        entropy_loss = entropy.mean()
        loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef
        return loss, torch.stack([pg_loss.detach(), v_loss.detach(), entropy_loss.detach(), approx_kl, clipfrac])

    if args.compile:
        policy_step = torch.compile(policy_step)
        minibatch_loss = torch.compile(minibatch_loss)
    return policy_step, bootstrap_value, minibatch_loss


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------
def main(argv: List[str], early_context: Optional[EarlyContext] = None) -> int:
    """`early_context`: the CUDA context __main__ started creating before torch was imported."""
    args = parse_args(argv)
    stop = StopFlag()
    try:
        return train(args, stop, early_context)
    except (RuntimeError, ValueError) as exc:
        if "out of memory" in str(exc).lower():
            log("out of memory: %s. Lower --num-envs or --minibatch-size, or run fewer games at once." % exc)
            return 3
        traceback.print_exc(file=sys.stdout)  # train.log keeps the trace for a bug report
        log("error: %s" % exc)
        return 2
    except FloatingPointError as exc:
        log("training diverged: %s. Resume from the last checkpoint or lower --learning-rate." % exc)
        return 3
    finally:
        stop.restore()


def train(args: Args, stop: StopFlag, early_context: Optional[EarlyContext] = None) -> int:
    clock = StartupClock()
    clock.mark("python and imports")
    device = resolve_device(args.device)
    if args.export and importlib.util.find_spec("onnx") is None:  # fail now, not after hours of training
        raise RuntimeError("ONNX export needs the onnx package: run `pip install onnx onnxruntime` in the trainer's venv")
    ckpt_dir = os.path.join(args.run_dir, "ckpt")
    models_dir = os.path.join(args.run_dir, "models")
    metrics_path = os.path.join(args.run_dir, "metrics.jsonl")
    os.makedirs(args.run_dir, exist_ok=True)
    prepare_checkpoints(ckpt_dir, log=log)  # before anything reads or writes ckpt/

    # CUDA graphs for the update epochs, and for the rollout where the envs step on the device (the main loop).
    use_graphs = wants_cuda_graphs(args, device)

    seed_and_set_matmul(args.seed, device)
    if device.type == "cuda":
        if early_context is not None:
            log(early_context.outcome(wait_s=10.0))
        torch.cuda.init()
    clock.mark("device")

    # --- environment and agent -----------------------------------------------------------------
    # The cores this process may use (the supervisor gives each trainer its own share, see
    # gantry_remote.cpus) size the Atari pool's worker threads and torch's intra-op threads.
    cores = sorted(os.sched_getaffinity(0))
    torch.set_num_threads(len(cores))
    if args.overlap_rollout:
        from .envs.atari import AleAtariHalves
        env = AleAtariHalves(args.game, args.num_envs, str(device), args.seed, sticky_actions=args.sticky_actions,
                             num_threads=len(cores))
    else:
        env = make_env(args.backend, args.game, args.num_envs, str(device), args.seed, compile=args.compile,
                       sticky_actions=args.sticky_actions, num_threads=len(cores))
    clock.mark("envs")
    agent = make_agent(env.obs_shape, env.num_actions).to(device)
    if not args.compile:
        dynamo_free.enable()  # nothing is compiled: spare the start-up torch.optim's Dynamo import
    optimizer = make_optimizer(args, agent, device, use_graphs)
    log(
        "training %s (%s backend) on %s: %d envs x %d steps, minibatch %d, lr %g, clip %g, sticky actions %g, obs %s, "
        "%d actions, %d parameters, cores %s"
        % (args.game, args.backend, device, args.num_envs, args.num_steps, args.minibatch_size, args.learning_rate,
           args.clip_coef, args.sticky_actions, tuple(env.obs_shape), env.num_actions,
           sum(p.numel() for p in agent.parameters()), format_cpu_list(cores))
    )
    if args.overlap_rollout:
        log("overlapped rollout: two env pools of %d and %d envs, stepped in turn" % (env.split, args.num_envs - env.split))

    # --- counters (restored on resume) -----------------------------------------------------------
    global_step = 0
    episodes = 0
    update = 0
    recent_returns: deque = deque(maxlen=100)
    max_return: Optional[float] = None
    next_obs = env.reset()
    next_done = torch.zeros(args.num_envs, dtype=torch.bool, device=device)

    if args.resume:
        loaded = load_latest_checkpoint(ckpt_dir, log=log)
        if loaded is None:
            log("no usable checkpoint in %s; starting fresh" % ckpt_dir)
        else:
            state, entry = loaded
            agent.load_state_dict(state["agent"])
            load_optimizer_state(optimizer, state["optimizer"])
            # This run's learning rate, not the saved one: a restart rule may have lowered it after a NaN.
            set_learning_rate(optimizer, args.learning_rate)
            global_step, episodes, update = state["global_step"], state["episodes"], state["update"]
            recent_returns.extend(state["recent_returns"])
            max_return = state["max_return"]
            same_envs = state["num_envs"] == args.num_envs and state["backend"] == args.backend and state["env"]
            if same_envs:
                env.load_state_dict({k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in state["env"].items()})
                next_obs = state["next_obs"].to(device)
                next_done = state["next_done"].to(device)
                set_rng_state(state["rng"], device)
            else:
                log("environments start fresh (env state not restorable for this backend or env count changed)")
            log("resumed from %s: global_step=%d episodes=%d" % (entry["file"], global_step, episodes))

    clock.mark("agent and checkpoint")

    # --- rollout storage, on the training device ----------------------------------------------------
    T, N = args.num_steps, args.num_envs
    buf = RolloutBuffers.allocate(T, N, env.obs_shape, next_obs.dtype, device)
    batch_size = T * N
    minibatch_size = min(args.minibatch_size, batch_size)
    policy_step, bootstrap_value, minibatch_loss = make_step_functions(args, agent, device)

    # --- CUDA graphs: one update epoch (and for the built-in games the rollout + GAE), captured once,
    # replayed per rollout. Captured after the first update, which runs eagerly: the first metrics line
    # does not wait for the capture (3-8 s on the H200), and the capture's warm-up finds Adam's state ready.
    graphs = None  # GraphedPPO (rollout + epochs) or GraphedUpdate (epochs; the rollout stays eager)

    # --- bookkeeping for files -------------------------------------------------------------------
    def checkpoint_state(snapshot: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "game": args.game,
            "backend": args.backend,
            "num_envs": args.num_envs,
            "args": dataclasses.asdict(args),
            "agent": clone_tree(agent.state_dict(), "cpu"),
            "optimizer": portable_optimizer_state(clone_tree(optimizer.state_dict(), "cpu")),
            **snapshot,
        }

    def snapshot_now() -> Dict[str, Any]:
        """Everything that changes during a rollout, captured at a rollout boundary."""
        return {
            "global_step": global_step,
            "episodes": episodes,
            "update": update,
            "recent_returns": [float(r) for r in recent_returns],
            "max_return": max_return,
            "env": clone_tree(env.state_dict(), "cpu"),
            "next_obs": clone_tree(next_obs, "cpu"),
            "next_done": clone_tree(next_done, "cpu"),
            "rng": rng_state(device),
        }

    def write_checkpoint(snapshot: Dict[str, Any]) -> None:
        entry = save_checkpoint(ckpt_dir, checkpoint_state(snapshot), snapshot["global_step"], snapshot["episodes"])
        log("checkpoint %s (%d bytes)" % (entry["file"], entry["size"]))

    def mean_return() -> Optional[float]:
        return float(np.mean(recent_returns)) if recent_returns else None

    def write_export() -> None:
        def eval_env(seed: int):
            return make_env(args.backend, args.game, 1, "cpu", seed, sticky_actions=args.sticky_actions, num_threads=1)

        episode = record_for_export(agent, eval_env, args.game, args.backend, env.action_names, global_step, args.seed, log)
        entry = export_policy(models_dir, agent, next_obs[0], args.game, args.backend, env.action_names,
                              global_step, episodes, mean_return(), episode=episode)
        log("exported %s (sha256 %s)" % (entry["file"], entry["sha256"][:12]))

    def export_if_asked() -> None:
        """A stop at the run's budget also leaves a model (the supervisor asks with a file)."""
        request = os.path.join(args.run_dir, EXPORT_ON_STOP)
        if args.export and os.path.exists(request):
            write_export()
            os.unlink(request)

    last_losses = torch.zeros(5, device=device)
    window = {"ts": time.time(), "step": global_step, "episodes": episodes}

    def write_metrics() -> None:
        now = time.time()
        elapsed = max(now - window["ts"], 1e-9)
        losses = [float(x) for x in last_losses.tolist()]
        if not all(math.isfinite(x) for x in losses):
            raise FloatingPointError("non-finite loss (nan/inf): %s" % losses)
        record = {
            "ts": now,
            "global_step": global_step,
            "episodes": episodes,
            "mean_return": mean_return(),
            "max_return": max_return,
            "sps": (global_step - window["step"]) / elapsed,
            "episodes_per_hour": (episodes - window["episodes"]) * 3600.0 / elapsed,
            "lr": learning_rate(optimizer),
            "losses": dict(zip(("policy", "value", "entropy", "approx_kl", "clipfrac"), losses)),
            "gpu_mem_mb": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
        }
        with open(metrics_path, "a") as f:
            f.write(json.dumps(record) + "\n")
        window.update(ts=now, step=global_step, episodes=episodes)
        log("step %d  episodes %d  mean_return %s  sps %.0f  loss(pi %.3f v %.3f ent %.3f kl %.4f)"
            % (global_step, episodes, "%.2f" % record["mean_return"] if recent_returns else "-", record["sps"], *losses[:4]))

    # --- main loop ---------------------------------------------------------------------------------
    def target_reached() -> bool:
        return (args.target_episodes > 0 and episodes >= args.target_episodes) or (
            args.total_steps > 0 and global_step >= args.total_steps)

    thumbnails = ThumbnailWriter(args.run_dir, args.backend, args.thumbnail_seconds, log)
    thumbnails.maybe_write(next_obs)  # a picture before the first (possibly slow) rollout
    last_checkpoint = last_export = last_metrics = time.time()
    started = time.time()
    first_update = update

    def startup_mark(phase: str) -> None:
        """Ends a phase of the first iteration. On a GPU it waits for the kernels queued so far, so
        each phase is charged with its own device work (the first metrics line syncs anyway)."""
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        clock.mark(phase)

    startup_mark("buffers and first thumbnail")
    while not target_reached() and not stop.requested:
        if args.anneal_lr and args.total_steps > 0:
            frac = max(0.0, 1.0 - update * batch_size / args.total_steps)
            set_learning_rate(optimizer, frac * args.learning_rate)

        if isinstance(graphs, GraphedPPO):
            graphs.rollout()  # env_rollout and the GAE further down, as one graph launch
        else:
            # Rollout, into the epoch graph's buffers once captured. Nothing here reads a device value on the host.
            snapshot = snapshot_now()  # what a SIGTERM during this rollout checkpoints
            if args.overlap_rollout:  # env_rollout, with one half's forward while the other half's emulators run
                next_obs, next_done, aborted = env.rollout(next_obs, next_done, policy_step, buf, lambda: stop.requested)
            else:
                # CUDA, cuBLAS and cuDNN start on first use
                first_step = (lambda: startup_mark("first rollout step")) if update == first_update else None
                next_obs, next_done, aborted = env_rollout(env, next_obs, next_done, policy_step, buf, lambda: stop.requested, first_step)
            if aborted:
                log("%s received during a rollout: checkpointing the state before it" % stop.signal_name)
                write_checkpoint(snapshot)
                export_if_asked()
                return 0

        # Episode statistics: one copy to the host per rollout.
        finished = buf.ep_return[buf.ended].cpu()
        if finished.numel():
            episodes += int(finished.numel())
            recent_returns.extend(finished.tolist())
            best = float(finished.max())
            max_return = best if max_return is None else max(max_return, best)
        global_step += batch_size
        if update == first_update:
            startup_mark("first rollout" if args.overlap_rollout else "rest of the first rollout")

        if not isinstance(graphs, GraphedPPO):
            # Generalised advantage estimation: the function the rollout graph runs.
            _, returns = compute_gae(buf.rewards, buf.values, buf.dones, bootstrap_value(next_obs), next_done,
                                     args.gamma, args.gae_lambda, out=buf.advantages)
            buf.returns.copy_(returns)

        # PPO update.
        for epoch in range(args.update_epochs):
            if graphs is not None:
                last_losses = graphs.update_epoch()  # update_epoch below, as one graph launch
            else:
                last_losses = update_epoch(agent, optimizer, minibatch_loss, buf.flat_batch(),
                                           torch.randperm(batch_size, device=device), minibatch_size, args.max_grad_norm)
            if epoch == 0 and update == first_update:
                startup_mark("GAE and first update epoch")  # the first backward passes and Adam steps
            if args.target_kl is not None and float(last_losses[3]) > args.target_kl:
                break  # one sync per epoch, only when early stopping is on
        if update == first_update:
            startup_mark("other update epochs")
        update += 1

        # Files: metrics (the first line right after the first update, so the user sees the run
        # move as soon as it does), thumbnail, periodic checkpoint and export.
        now = time.time()
        thumbnails.maybe_write(next_obs)
        if update == first_update + 1:
            log("first update %s" % clock.summary())
        if update == first_update + 1 or now - last_metrics >= args.metrics_seconds:
            write_metrics()
            last_metrics = now
        if update == first_update + 1 and device.type == "cuda":
            # cuDNN autotuning from here on: it times every algorithm for each new convolution shape
            # (the rollout's batch and the minibatch, forward and both backward passes), a one-time
            # cost the first metrics line need not wait for. The graph capture's warm-up pays it.
            torch.backends.cudnn.benchmark = True
        if now - last_checkpoint >= args.checkpoint_minutes * 60:
            write_checkpoint(snapshot_now())
            last_checkpoint = now
        if args.export and now - last_export >= args.export_minutes * 60:
            write_export()
            last_export = now
        if use_graphs and graphs is None and not target_reached() and not stop.requested:
            captured = time.time()
            if can_use_graphs(env, device):
                graphs = GraphedPPO(env, agent, optimizer, num_steps=T, minibatch_size=minibatch_size, gamma=args.gamma,
                                    gae_lambda=args.gae_lambda, max_grad_norm=args.max_grad_norm,
                                    policy_step=policy_step, bootstrap_value=bootstrap_value,
                                    minibatch_loss=minibatch_loss, next_obs=next_obs, next_done=next_done)
                next_obs, next_done = graphs.next_obs, graphs.next_done  # every replay updates them in place
                what = "the rollout and the update"
            else:  # the emulators step on the CPU: the eager rollout writes into the graph's buffers
                graphs = GraphedUpdate(agent, optimizer, buf, minibatch_size=minibatch_size,
                                       max_grad_norm=args.max_grad_norm, minibatch_loss=minibatch_loss)
                what = "the update"
            buf = graphs.buffers  # written by the rollout, read for the episode statistics and by the epoch graph
            log("captured CUDA graphs for %s in %.1f s" % (what, time.time() - captured))

    if global_step != window["step"] or not os.path.exists(metrics_path):
        write_metrics()  # the closing line, unless the last one already shows the final counters
    write_checkpoint(snapshot_now())
    if stop.requested:
        log("%s received: checkpointed at step %d, exiting" % (stop.signal_name, global_step))
        export_if_asked()
        return 0
    if args.export:
        write_export()
    reason = "target_episodes" if args.target_episodes > 0 and episodes >= args.target_episodes else "total_steps"
    atomic.write_json(os.path.join(args.run_dir, "completed.json"),
                      {"episodes": episodes, "global_step": global_step, "ts": time.time(), "reason": reason})
    log("done (%s): %d episodes, %d steps in %.1f s" % (reason, episodes, global_step, time.time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
