"""The peer, PureJaxRL's PPO on gymnax's MinAtar games, timed the way bench_trainer.py times ours.

    python3 bench/bench_peer_purejaxrl.py --purejaxrl .gl/purejaxrl --gymnax .gl/gymnax --game breakout --out peer.json

One game per process, so each one's wall time includes JAX's start-up as ours includes PyTorch's.

Runs `purejaxrl/ppo.py`'s `make_train` unchanged, with the hyperparameters PureJaxRL publishes for
gymnax's MinAtar games (examples/brax_minatar.ipynb: lr 5e-3 annealed, 64 envs x 128 steps,
8 minibatches, 4 epochs, relu; "~45 seconds including compilation on an A40"), 10M steps, seed 42
as in that notebook. Both repositories are public and carried beside the project, never committed
(`git archive` of luchris429/purejaxrl and RobertTLange/gymnax at v0.0.9 into the ignored .gl/: gymnax 1.0
split `done` into terminated/truncated, and PureJaxRL has not followed).

Import shims, because PureJaxRL's wrappers.py imports Brax and Navix at the top for wrappers the
MinAtar path never builds, and ppo.py takes its Categorical from distrax (which pulls in
TensorFlow Probability): empty `brax`/`navix` modules, and, only where distrax is missing, a
`distrax.Categorical` with distrax's own sample / log_prob / entropy formulas.

Wall time counts from this process's start (JAX start-up and compilation included): the whole
training is one XLA call, so the time an update finished is placed linearly inside that call.
The mean return is the mean of the last 100 finished episodes, as our trainer's metrics report it.
"""
import argparse
import json
import sys
import time
import types
from collections import deque
from pathlib import Path

STARTED = time.time()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

GYMNAX_NAMES = {"breakout": "Breakout-MinAtar", "space_invaders": "SpaceInvaders-MinAtar", "freeway": "Freeway-MinAtar",
                "asterix": "Asterix-MinAtar", "seaquest": "Seaquest-MinAtar"}
REFERENCE_RETURNS = {"breakout": 28.0, "space_invaders": 131.0}
MINATAR_CONFIG = {"LR": 5e-3, "NUM_ENVS": 64, "NUM_STEPS": 128, "TOTAL_TIMESTEPS": 1e7, "UPDATE_EPOCHS": 4,
                  "NUM_MINIBATCHES": 8, "GAMMA": 0.99, "GAE_LAMBDA": 0.95, "CLIP_EPS": 0.2, "ENT_COEF": 0.01,
                  "VF_COEF": 0.5, "MAX_GRAD_NORM": 0.5, "ACTIVATION": "relu", "ANNEAL_LR": True}


class Categorical:
    """distrax.Categorical's sample, log_prob and entropy (distrax/_src/distributions/categorical.py)."""

    def __init__(self, logits):
        self.logits = jax.nn.log_softmax(logits, axis=-1)

    def sample(self, seed):
        return jax.random.categorical(seed, self.logits, axis=-1)

    def log_prob(self, value):
        return jnp.sum(jax.nn.one_hot(value, self.logits.shape[-1]) * self.logits, axis=-1)

    def entropy(self):
        probs = jnp.exp(self.logits)
        return -jnp.sum(jnp.where(probs == 0, 0.0, probs * self.logits), axis=-1)


def install_shims() -> list:
    shimmed = []
    training = types.ModuleType("brax.envs.wrappers.training")
    training.EpisodeWrapper = training.AutoResetWrapper = None
    for name, module in {"brax": types.ModuleType("brax"), "brax.envs": types.ModuleType("brax.envs"),
                         "brax.envs.wrappers": types.ModuleType("brax.envs.wrappers"),
                         "brax.envs.wrappers.training": training, "navix": types.ModuleType("navix")}.items():
        sys.modules.setdefault(name, module)
    sys.modules["brax"].envs = sys.modules["brax.envs"]
    shimmed.append("brax, navix (unused by the MinAtar path)")
    try:
        import distrax  # noqa: F401
    except ImportError:
        sys.modules["distrax"] = types.SimpleNamespace(Categorical=Categorical)
        shimmed.append("distrax.Categorical")
    return shimmed


def curve(metrics: dict, num_updates: int, batch: int, compile_end: float, run_s: float) -> list:
    """(step, wall s since process start, mean of the last 100 episodes) after each update."""
    returns = np.asarray(metrics["returned_episode_returns"])
    ended = np.asarray(metrics["returned_episode"])
    recent: deque = deque(maxlen=100)
    points = []
    for u in range(int(num_updates)):
        recent.extend(returns[u][ended[u]].tolist())
        wall = compile_end - STARTED + run_s * (u + 1) / int(num_updates)
        points.append(((u + 1) * batch, wall, float(np.mean(recent)) if recent else None))
    return points


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purejaxrl", required=True, help="a checkout of luchris429/purejaxrl")
    parser.add_argument("--gymnax", required=True, help="a checkout of RobertTLange/gymnax")
    parser.add_argument("--game", required=True, choices=sorted(GYMNAX_NAMES))
    parser.add_argument("--steps", type=float, default=1e7)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", help="write the curves here (JSON)")
    opts = parser.parse_args()
    sys.path[:0] = [str(Path(opts.gymnax).resolve()), str(Path(opts.purejaxrl).resolve() / "purejaxrl")]
    shims = install_shims()
    import ppo  # PureJaxRL's purejaxrl/ppo.py

    print("PureJaxRL ppo.py on gymnax, jax %s on %s; shims: %s" % (jax.__version__, jax.devices()[0], "; ".join(shims)), flush=True)
    game = opts.game
    config = dict(MINATAR_CONFIG, ENV_NAME=GYMNAX_NAMES[game], TOTAL_TIMESTEPS=opts.steps)
    began = time.time()
    train = jax.jit(ppo.make_train(config))  # make_train fills NUM_UPDATES and MINIBATCH_SIZE in config
    compiled = train.lower(jax.random.PRNGKey(opts.seed)).compile()
    compile_end = time.time()
    out = jax.block_until_ready(compiled(jax.random.PRNGKey(opts.seed)))
    run_s = time.time() - compile_end
    points = curve(out["metrics"], config["NUM_UPDATES"], config["NUM_ENVS"] * config["NUM_STEPS"], compile_end, run_s)
    reference = REFERENCE_RETURNS.get(game)
    hit = next((p for p in points if reference is not None and p[2] is not None and p[2] >= reference), None)
    result = {"game": game, "start_s": began - STARTED, "compile_s": compile_end - began, "run_s": run_s, "steps": points[-1][0],
              "final_mean_return": points[-1][2], "reference": reference, "reached": hit,
              "curve": points[:: max(1, len(points) // 200)]}
    print("| PureJaxRL %s | %d | %.1f s (JAX start %.1f + compile %.1f + train %.1f) | %s | %s |" % (
        game, points[-1][0], points[-1][1], began - STARTED, compile_end - began, run_s,
        "%.1f" % points[-1][2] if points[-1][2] is not None else "-",
        "%.1f s (step %d)" % (hit[1], hit[0]) if hit else "not reached"), flush=True)
    if opts.out:
        Path(opts.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
