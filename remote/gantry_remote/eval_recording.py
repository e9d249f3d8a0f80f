"""A short evaluation episode recorded at each export, so the desktop can replay how the model plays.

The exported policy plays one fresh env (CPU; seeded with the `seed` in the header) until the game ends, `MAX_STEPS` or
`MAX_SECONDS`; actions are sampled from the policy's softmax with a fixed seed (as in training,
where the returns in the manifest come from sampled actions). The file is `<model>.episode.gz`,
written atomically beside the model (format: remote/PROTOCOL.md "Episode recording"):

    gzip( b"GANTRYEP" | u32 LE header length | header JSON (utf-8) | frames )

Frame i is what the agent saw when it chose action i; reward i is what action i earned (the real
game score for Atari, not the clipped reward PPO learns from). Built-in games store each frame as
the observation's C x 10 x 10 bits (packed, channel-major); Atari stores the newest 84 x 84 grey
frame of the stack, one byte a pixel.
"""
import copy
import gzip
import json
import struct
import time
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from .nets import ActorCritic, PolicyLogits

MAGIC = b"GANTRYEP"
VERSION = 1
SUFFIX = ".episode.gz"
# Bounds the desktop enforces too (src/main/services/models/episode/recording.ts): a replay of
# about a minute of Atari (4 emulator frames a step) and a file of a few hundred KB.
MAX_STEPS = 1000
MAX_HEADER_BYTES = 256 * 1024
# Wall-clock bound of one recording, so an export never waits long on it (a slow or shared CPU).
MAX_SECONDS = 30.0
EVAL_SEED_OFFSET = 1_000_003  # the eval env never replays a training env's games


def _frame(obs: torch.Tensor, kind: str) -> bytes:
    """One env's observation as stored: bits of the grid, or the newest grey frame."""
    if kind == "grid":
        return np.packbits(obs.detach().cpu().numpy().astype(bool).reshape(-1)).tobytes()
    return np.ascontiguousarray(obs[-1].detach().cpu().numpy().astype(np.uint8)).tobytes()


def encode(header: Dict[str, Any], frames: List[bytes]) -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    if len(head) > MAX_HEADER_BYTES:
        raise ValueError("episode header is %d bytes, over the %d allowed" % (len(head), MAX_HEADER_BYTES))
    body = MAGIC + struct.pack("<I", len(head)) + head + b"".join(frames)
    # mtime=0: the same episode gives the same bytes (and sha256).
    return gzip.compress(body, compresslevel=6, mtime=0)


def record_episode(agent: ActorCritic, env: Any, game: str, backend: str, action_names: Sequence[str],
                   global_step: int, seed: int, max_steps: int = MAX_STEPS,
                   max_seconds: float = MAX_SECONDS) -> bytes:
    """Play one episode of `env` (a fresh single-env VecEnv on the CPU) with the policy; the file's bytes."""
    if env.num_envs != 1:
        raise ValueError("record_episode plays one env, got %d" % env.num_envs)
    max_steps = min(int(max_steps), MAX_STEPS)
    policy = PolicyLogits(copy.deepcopy(agent).float().cpu()).eval()
    obs = env.reset()
    kind = "grey" if obs.dtype == torch.uint8 else "grid"  # Atari frames are uint8, built-in grids float 0/1
    channels, height, width = env.obs_shape
    stored_channels = channels if kind == "grid" else 1
    book = getattr(env, "book", None)  # Atari: the running real score of the current game
    gen = torch.Generator().manual_seed(int(seed))
    frames: List[bytes] = []
    actions: List[int] = []
    rewards: List[float] = []
    ended = "max_steps"
    started = time.monotonic()
    while len(actions) < max_steps:
        if time.monotonic() - started > max_seconds:
            ended = "max_seconds"
            break
        frames.append(_frame(obs[0], kind))
        with torch.no_grad():
            probs = torch.softmax(policy(obs.float()), dim=-1)
        action = int(torch.multinomial(probs[0], 1, generator=gen))
        before = float(book.returns[0]) if book is not None else 0.0
        result = env.step(torch.tensor([action], dtype=torch.int64))
        done = bool(result.terminated[0] or result.truncated[0])
        if book is not None:
            after = float(result.episode_return[0]) if done else float(book.returns[0])
            reward = after - before
        else:
            reward = float(result.reward[0])
        actions.append(action)
        rewards.append(reward)
        obs = result.obs
        if done:
            ended = "game_over" if bool(result.terminated[0]) else "truncated"
            break
    header = {
        "v": VERSION,
        "game": game,
        "backend": backend,
        "kind": kind,
        "channels": stored_channels,
        "height": int(height),
        "width": int(width),
        "channel_names": list(getattr(env, "channels", ("grey",))) if kind == "grid" else ["grey"],
        "action_names": [str(a) for a in action_names],
        "steps": len(actions),
        "actions": actions,
        "rewards": rewards,
        "score": float(sum(rewards)),
        "ended": ended,
        "policy": "sample",
        "seed": int(seed),
        "global_step": int(global_step),
    }
    return encode(header, frames)


def record_for_export(agent: ActorCritic, make_eval_env, game: str, backend: str, action_names: Sequence[str],
                      global_step: int, seed: int, log) -> Optional[bytes]:
    """The recording, or None (logged) when it cannot be made: a replay is a nicety, never a reason
    to lose an export. `make_eval_env(seed)` builds the one-env CPU environment; its seed (also the
    action sampler's) is the run's seed plus an offset, so the recording never replays a training env's game."""
    try:
        env = make_eval_env(seed + EVAL_SEED_OFFSET)
        data = record_episode(agent, env, game, backend, action_names, global_step, seed + EVAL_SEED_OFFSET)
    except Exception as exc:  # noqa: BLE001 - any failure only costs the replay
        log("no episode recording for this export: %s" % exc)
        return None
    return data
