"""Built-in, zero-ROM games with MinAtar rules, batched on any torch device.

`make_builtin(game, num_envs, ...)` is the trainer's entry point; `BUILTIN_GAMES` lists ids.
"""
from typing import Dict

from .asterix import Asterix
from .base import BuiltinGame, StepResult, VecEnv
from .breakout import Breakout
from .freeway import Freeway
from .seaquest import Seaquest
from .space_invaders import SpaceInvaders

BUILTIN_GAMES: Dict[str, type] = {
    Breakout.game_id: Breakout,
    Freeway.game_id: Freeway,
    SpaceInvaders.game_id: SpaceInvaders,
    Seaquest.game_id: Seaquest,
    Asterix.game_id: Asterix,
}


def make_builtin(
    game: str,
    num_envs: int,
    device="cpu",
    seed: int = 0,
    sticky_p: float = 0.1,
    max_steps: int = 10_000,
    compile: bool = False,
) -> VecEnv:
    """A batch of `num_envs` copies of a built-in game. `compile=True` fuses each step with
    torch.compile (worth it on CUDA; the first step then takes a while to compile)."""
    cls = BUILTIN_GAMES.get(game)
    if cls is None:
        raise ValueError(
            "unknown built-in game %r; valid ids: %s" % (game, ", ".join(sorted(BUILTIN_GAMES)))
        )
    return cls(num_envs, device=device, seed=seed, sticky_p=sticky_p, max_steps=max_steps, compile=compile)


__all__ = ["BUILTIN_GAMES", "BuiltinGame", "StepResult", "VecEnv", "make_builtin"]
