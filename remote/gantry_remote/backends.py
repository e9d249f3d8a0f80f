"""Environment backends: `builtin` (GPU-native torch games), `envpool` and `ale` (Atari).

All three hand the trainer the same vector-env interface (see `gantry_remote.envs`), so the
trainer has one rollout loop and one episode-statistics path.
"""
from typing import Any, Optional

BACKENDS = ("envpool", "ale", "builtin")


def make_env(backend: str, game: str, num_envs: int, device: str, seed: int, compile: bool = False,
             sticky_actions: Optional[float] = None) -> Any:
    """`compile` fuses each built-in env step with torch.compile (the Atari emulators run in C++).
    `sticky_actions` overrides the backend's own repeat-action probability when set."""
    if backend == "builtin":
        from .envs import BUILTIN_GAMES, make_builtin

        known = {g.lower(): g for g in BUILTIN_GAMES}
        if game.lower() not in known:
            raise ValueError(
                "'%s' is not a built-in game; built-in games are: %s. For Atari games use --backend envpool or ale."
                % (game, ", ".join(sorted(BUILTIN_GAMES)))
            )
        sticky = {} if sticky_actions is None else {"sticky_p": sticky_actions}
        return make_builtin(known[game.lower()], num_envs, device=device, seed=seed, compile=compile, **sticky)
    if backend == "envpool":
        from .envs.atari import EnvPoolAtari

        return EnvPoolAtari(game, num_envs, device=device, seed=seed, sticky_actions=sticky_actions)
    if backend == "ale":
        from .envs.atari import AleAtari

        return AleAtari(game, num_envs, device=device, seed=seed, sticky_actions=sticky_actions)
    raise ValueError("unknown backend '%s'; choose one of: %s" % (backend, ", ".join(BACKENDS)))
