"""The check each GPU session starts with: real Breakout through the trainer's ale backend, acted on
by a (random-init) Nature CNN on the GPU for a few seconds; fails unless the screen is a real,
changing picture and games end. Writes the newest frame as a PGM image.

    python3 bench/act_check.py --seconds 10 --out /tmp/screen.pgm
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "remote"))

from gantry_remote.backends import make_env  # noqa: E402
from gantry_remote.nets import make_agent  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--envs", type=int, default=16)
    p.add_argument("--out", default="screen.pgm")
    args = p.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    env = make_env("ale", "Breakout", args.envs, device, seed=1)
    agent = make_agent(env.obs_shape, env.num_actions).to(device)
    obs = env.reset()
    first = obs.clone()
    steps, games, start = 0, 0, time.time()
    with torch.no_grad():
        while time.time() - start < args.seconds:
            logits, _value = agent(obs)
            r = env.step(torch.distributions.Categorical(logits=logits).sample())
            obs = r.obs
            steps += args.envs
            games += int((r.terminated | r.truncated).sum())
    frame = obs[0, -1].cpu()
    with open(args.out, "wb") as f:
        f.write(b"P5 84 84 255\n" + bytes(frame.flatten().tolist()))
    changed = bool((obs != first).any())
    print("device %s (%s): %d env steps in %.1f s = %.0f steps/s, %d games ended, frame mean %.1f std %.1f, changed %s"
          % (device, torch.cuda.get_device_name(0) if device == "cuda" else "cpu", steps, time.time() - start,
             steps / (time.time() - start), games, frame.float().mean(), frame.float().std(), changed))
    ok = changed and frame.float().std() > 1.0 and games > 0
    print("act + screen check:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
