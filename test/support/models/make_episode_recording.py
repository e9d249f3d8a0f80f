"""Write a real episode recording (the trainer's own recorder, an untrained policy on a built-in game) to OUT.

Usage: python test/support/models/make_episode_recording.py OUT [--game breakout] [--steps 40]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "remote"))

import torch  # noqa: E402

from gantry_remote.backends import make_env  # noqa: E402
from gantry_remote.eval_recording import record_episode  # noqa: E402
from gantry_remote.nets import make_agent  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--game", default="breakout")
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    torch.manual_seed(0)
    env = make_env("builtin", args.game, 1, "cpu", 3)
    agent = make_agent(env.obs_shape, env.num_actions)
    data = record_episode(agent, env, args.game, "builtin", env.action_names, 4096, seed=3, max_steps=args.steps)
    with open(args.out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
