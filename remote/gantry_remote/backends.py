"""Environment backends: `builtin` (GPU-native torch games), `envpool` and `ale` (Atari).

All three hand the trainer the same vector-env interface (see `gantry_remote.envs`), so the
trainer has one rollout loop and one episode-statistics path.
"""
from typing import Any, Optional

BACKENDS = ("envpool", "ale", "builtin")
# Repeat-action probability when a run sets none, per backend, so every run states the one it used:
# MinAtar's 0.1 for the built-in games, ALE v5's 0.25 for ale-py (Machado et al. 2018), EnvPool's
# 0 for envpool (CleanRL's published Atari tables were made with it).
STICKY_DEFAULT = {"builtin": 0.1, "ale": 0.25, "envpool": 0.0}


def make_env(backend: str, game: str, num_envs: int, device: str, seed: int, compile: bool = False,
             sticky_actions: Optional[float] = None, num_threads: int = 0) -> Any:
    """`compile` fuses each built-in env step with torch.compile (the Atari emulators run in C++).
    `sticky_actions`: unset means STICKY_DEFAULT[backend]. `num_threads`: the Atari pool's worker
    threads (0: the pool's own choice, one per core)."""
    sticky_actions = STICKY_DEFAULT.get(backend, 0.0) if sticky_actions is None else sticky_actions
    if backend == "builtin":
        from .envs import BUILTIN_GAMES, make_builtin

        known = {g.lower(): g for g in BUILTIN_GAMES}
        if game.lower() not in known:
            raise ValueError(
                "'%s' is not a built-in game; built-in games are: %s. For Atari games use --backend envpool or ale."
                % (game, ", ".join(sorted(BUILTIN_GAMES)))
            )
        return make_builtin(known[game.lower()], num_envs, device=device, seed=seed, compile=compile,
                            sticky_p=sticky_actions)
    if backend == "envpool":
        from .envs.atari import EnvPoolAtari

        return EnvPoolAtari(game, num_envs, device=device, seed=seed, sticky_actions=sticky_actions,
                            num_threads=num_threads)
    if backend == "ale":
        from .envs.atari import AleAtari

        return AleAtari(game, num_envs, device=device, seed=seed, sticky_actions=sticky_actions,
                        num_threads=num_threads)
    raise ValueError("unknown backend '%s'; choose one of: %s" % (backend, ", ".join(BACKENDS)))
