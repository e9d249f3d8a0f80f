"""Helpers for the built-in env tests: set up a rule scenario and step it by action name."""
import torch

from gantry_remote.envs import make_builtin


def scenario(game: str, num_envs: int = 1, **kwargs):
    """A non-sticky env, so each step does exactly the action asked for."""
    kwargs.setdefault("sticky_p", 0.0)
    return make_builtin(game, num_envs, seed=kwargs.pop("seed", 0), **kwargs)


def put(env, **fields):
    """Overwrite env 0's rule-state fields (scalars or nested lists) before the next step."""
    for name, value in fields.items():
        target = env.game_state[name]
        target[0] = torch.as_tensor(value, dtype=target.dtype)


def get(env, name):
    return env.game_state[name][0].tolist()


def act(env, name: str):
    index = env.action_names.index(name)
    return env.step(torch.full((env.num_envs,), index, dtype=torch.long))


def cell(result, env, channel: str, y: int, x: int) -> float:
    return result.obs[0, env.channels.index(channel), y, x].item()
