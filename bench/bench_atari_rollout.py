"""Where an Atari rollout's time goes, and what overlapping the policy forward with emulation gains.

    python3 bench/bench_atari_rollout.py --envs 256 --threads 8 --device cuda      # ~1 min on the H200
    python3 bench/bench_atari_rollout.py --envs 8 --steps 8 --rollouts 1 --device cpu --json out.json   # CPU smoke

For one game (ale backend, the trainer's Nature CNN at random init, its action sampling), in steps/s:
* `emulation alone`: the env pool stepped with random actions, no policy: the ceiling;
* `trainer's rollout`: the trainer's eager loop (fast_path.env_rollout: forward, sample, step every env, per t),
  with the time spent waiting on the emulators and the rest (forward, sampling, copies) apart;
* `overlapped rollout`: envs/atari.py's AleAtariHalves.rollout: the pool as two halves, one half's
  forward running while the other half's emulators step (same games, same semantics, tested).
The update (PPO epochs) is not here: the trainer's own steps/s in a real run, against the rollout
figure here, gives its share.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "remote"))
from gantry_remote.envs.atari import AleAtari, AleAtariHalves  # noqa: E402
from gantry_remote.fast_path import RolloutBuffers, env_rollout  # noqa: E402
from gantry_remote.nets import make_agent  # noqa: E402
from gantry_remote.ppo import sample_actions  # noqa: E402


class TimedEmulators:
    """The env as the trainer's rollout (fast_path.env_rollout) steps it, with the wait on the emulators
    timed: a step is a send, then the timed receive."""

    def __init__(self, env: AleAtari, clock: Dict[str, float]) -> None:
        self.env, self.clock = env, clock

    @property
    def life_lost(self):
        return self.env.life_lost

    def step(self, action):
        self.env.send(action)
        waited = time.perf_counter()
        result = self.env.recv()
        self.clock["emulation_s"] += time.perf_counter() - waited
        return result


def measure(opts: argparse.Namespace) -> Dict[str, float]:
    device = torch.device(opts.device)
    torch.set_num_threads(opts.threads)
    probe = AleAtari(opts.game, 1, "cpu", opts.seed, sticky_actions=opts.sticky_actions, num_threads=1)
    agent = make_agent(probe.obs_shape, probe.num_actions).to(device)

    def policy_step(obs):
        with torch.no_grad():
            logits, value = agent(obs)
        action, logprob = sample_actions(logits)
        return action, logprob, value.float()

    def sync(x):
        if device.type == "cuda":
            torch.cuda.synchronize()
        return x

    n, steps = opts.envs, opts.steps
    out: Dict[str, float] = {"envs": n, "steps_per_rollout": steps, "threads": opts.threads, "rollouts": opts.rollouts}

    env = AleAtari(opts.game, n, str(device), opts.seed, sticky_actions=opts.sticky_actions, num_threads=opts.threads)
    env.reset()
    gen = torch.Generator().manual_seed(opts.seed)
    began = time.perf_counter()
    for _ in range(opts.rollouts * steps):
        env.step(torch.randint(0, env.num_actions, (n,), generator=gen))
    out["emulation_alone_sps"] = opts.rollouts * steps * n / (time.perf_counter() - began)

    buf = RolloutBuffers.allocate(steps, n, env.obs_shape, torch.uint8, device)
    next_obs, next_done = env.reset(), torch.zeros(n, dtype=torch.bool, device=device)
    clock = {"emulation_s": 0.0}
    timed = TimedEmulators(env, clock)
    next_obs, next_done, _ = env_rollout(timed, next_obs, next_done, policy_step, buf)  # warm-up
    clock["emulation_s"] = 0.0
    began = sync(time.perf_counter())
    for _ in range(opts.rollouts):
        next_obs, next_done, _ = env_rollout(timed, next_obs, next_done, policy_step, buf)
    wall = sync(time.perf_counter()) - began
    out["trainer_rollout_sps"] = opts.rollouts * steps * n / wall
    out["trainer_rollout_emulation_share"] = clock["emulation_s"] / wall
    env.vec_env.close()

    halves = AleAtariHalves(opts.game, n, str(device), opts.seed, sticky_actions=opts.sticky_actions, num_threads=opts.threads)
    next_obs, next_done = halves.reset(), torch.zeros(n, dtype=torch.bool, device=device)
    next_obs, next_done, _ = halves.rollout(next_obs, next_done, policy_step, buf)  # warm-up
    began = sync(time.perf_counter())
    for _ in range(opts.rollouts):
        next_obs, next_done, _ = halves.rollout(next_obs, next_done, policy_step, buf)
    out["overlapped_rollout_sps"] = opts.rollouts * steps * n / (sync(time.perf_counter()) - began)
    out["overlapped_gain"] = out["overlapped_rollout_sps"] / out["trainer_rollout_sps"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", default="Breakout")
    parser.add_argument("--envs", type=int, default=256)
    parser.add_argument("--steps", type=int, default=128, help="steps per env per rollout (the trainer's num_steps)")
    parser.add_argument("--rollouts", type=int, default=3, help="timed rollouts per variant (after one warm-up)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)), help="the env pool's threads (a trainer's cores)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--sticky-actions", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write the figures here too")
    opts = parser.parse_args()
    r = measure(opts)
    print("`python3 bench/bench_atari_rollout.py %s`\n" % " ".join(sys.argv[1:]))
    print("| %s, %d envs x %d steps, %d threads, %s | steps/s |\n| --- | ---: |" % (
        opts.game, opts.envs, opts.steps, opts.threads, opts.device))
    print("| emulation alone (random actions) | %.0f |" % r["emulation_alone_sps"])
    print("| trainer's rollout (waiting on emulators %.0f %% of it) | %.0f |" % (
        100 * r["trainer_rollout_emulation_share"], r["trainer_rollout_sps"]))
    print("| overlapped rollout (two halves) | %.0f (%.2f×) |" % (r["overlapped_rollout_sps"], r["overlapped_gain"]))
    if opts.json:
        Path(opts.json).write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
