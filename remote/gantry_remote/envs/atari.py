"""Atari vector environments (EnvPool or ale-py's vector env) behind the built-in games' interface.

Both wrappers present what `gantry_remote.envs` games present: `reset() -> obs`,
`step(actions) -> StepResult(obs, reward, terminated, truncated, episode_return,
episode_length)`, auto-reset, torch tensors on `device`. Atari specifics:

* Observations are 4 stacked 84x84 grey frames kept as uint8 (a quarter of the memory of
  float32 in the rollout buffer); the Nature CNN scales them by 1/255.
* `reward` is the sign-clipped reward PPO learns from; `episode_return` is the real game score.
* A lost life is NOT the end of an episode. `terminated` means game over, so episode counts and
  returns are real games. The loss of a life is exposed separately as `life_lost`, which the
  trainer treats as a terminal for bootstrapping (the "episodic life" trick) without resetting.
* Emulator state cannot be snapshotted for hundreds of ALE instances at once, so
  `state_dict()` is empty and a resumed run starts fresh games (counters and model resume exactly).
"""
import dataclasses
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from .base import StepResult

ENVPOOL_INSTALL = (
    "The envpool backend needs EnvPool: run `pip install envpool` in the trainer's venv "
    "(EnvPool ships Linux wheels for CPython 3.11 and older only). "
    "On other Pythons use `--backend ale` (`pip install 'ale-py>=0.12.1' gymnasium`)."
)
ALE_INSTALL = ("The ale backend needs ale-py 0.12.1 or newer (its C++ vector env, ROMs included) and gymnasium: "
               "run `pip install 'ale-py>=0.12.1' gymnasium` in the trainer's venv (setup.sh does this).")


FRAME_STACK = 4
SCREEN = 84


class _EpisodeBook:
    """Per-env running score and length of the current real game (not the current life)."""

    def __init__(self, num_envs: int):
        self.returns = np.zeros(num_envs, dtype=np.float64)
        self.lengths = np.zeros(num_envs, dtype=np.int64)

    def step(self, raw_reward: np.ndarray, episode_over: np.ndarray, counts: Optional[np.ndarray] = None):
        """`counts` is False for an env whose step was only the reset after a game over."""
        self.returns += raw_reward
        self.lengths += 1 if counts is None else counts.astype(np.int64)
        finished_returns = np.where(episode_over, self.returns, 0.0)
        finished_lengths = np.where(episode_over, self.lengths, 0)
        self.returns[episode_over] = 0.0
        self.lengths[episode_over] = 0
        return finished_returns, finished_lengths


class _AtariBase:
    obs_dtype = torch.uint8

    def __init__(self, game: str, num_envs: int, device: str, action_names: List[str]):
        self.game = game
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.obs_shape = (FRAME_STACK, SCREEN, SCREEN)
        self.action_names = list(action_names)
        self.num_actions = len(self.action_names)
        self.book = _EpisodeBook(num_envs)
        self.life_lost = torch.zeros(num_envs, dtype=torch.bool, device=self.device)
        self._last_obs: Optional[np.ndarray] = None

    def _obs(self, obs: np.ndarray) -> torch.Tensor:
        self._last_obs = obs
        return torch.as_tensor(np.ascontiguousarray(obs), dtype=torch.uint8).to(self.device, non_blocking=True)

    def _result(self, obs, clipped_reward, game_over, truncated, raw_reward, life_lost, counts=None) -> StepResult:
        episode_over = np.asarray(game_over, dtype=bool) | np.asarray(truncated, dtype=bool)
        ep_return, ep_length = self.book.step(np.asarray(raw_reward, dtype=np.float64), episode_over, counts)
        dev = self.device
        self.life_lost = torch.as_tensor(np.asarray(life_lost, dtype=bool) & ~episode_over, device=dev)
        return StepResult(
            obs=self._obs(obs),
            reward=torch.as_tensor(np.asarray(clipped_reward, dtype=np.float32), device=dev),
            terminated=torch.as_tensor(np.asarray(game_over, dtype=bool), device=dev),
            truncated=torch.as_tensor(np.asarray(truncated, dtype=bool) & ~np.asarray(game_over, dtype=bool), device=dev),
            episode_return=torch.as_tensor(ep_return.astype(np.float32), device=dev),
            episode_length=torch.as_tensor(ep_length, device=dev),
        )

    def render(self, index: int) -> np.ndarray:
        """The newest grey frame of env `index`, as an HxWx3 uint8 image."""
        if self._last_obs is None:
            raise RuntimeError("render() before reset()")
        frame = np.asarray(self._last_obs[index][-1], dtype=np.uint8)
        return np.repeat(frame[:, :, None], 3, axis=2)

    def state_dict(self) -> Dict[str, torch.Tensor]:
        return {}

    def load_state_dict(self, state: Dict[str, torch.Tensor]) -> None:
        """Nothing to restore: emulator state is not checkpointed (see module docstring)."""


def _import_envpool():
    try:
        import envpool  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(ENVPOOL_INSTALL) from exc
    return envpool


class EnvPoolAtari(_AtariBase):
    """EnvPool's C++ Atari pool (`<Game>-v5`): frame skip 4, 84x84 grey, stack 4, noop starts,
    episodic life and reward clipping done in C++; we add real-game episode accounting."""

    def __init__(self, game: str, num_envs: int, device: str = "cpu", seed: int = 0, pool: Any = None,
                 sticky_actions: float = 0.0, num_threads: int = 0):
        task_id = game if game.endswith("-v5") else game + "-v5"
        if pool is None:
            envpool = _import_envpool()
            pool = envpool.make(
                task_id,
                env_type="gymnasium",
                num_envs=num_envs,
                batch_size=num_envs,
                episodic_life=True,
                reward_clip=True,
                stack_num=FRAME_STACK,
                img_height=SCREEN,
                img_width=SCREEN,
                seed=seed,
                repeat_action_probability=sticky_actions,
                num_threads=num_threads,
            )
        self.pool = pool
        names = _action_names(pool, int(pool.action_space.n))
        super().__init__(task_id, num_envs, device, names)
        self._resetting = np.zeros(num_envs, dtype=bool)

    def reset(self) -> torch.Tensor:
        obs, _info = self.pool.reset()
        self.book = _EpisodeBook(self.num_envs)
        self._resetting[:] = False
        return self._obs(obs)

    def step(self, actions: torch.Tensor) -> StepResult:
        obs, reward, terminated, truncated, info = self.pool.step(actions.detach().cpu().numpy())
        terminated = np.asarray(terminated, dtype=bool)
        truncated = np.asarray(truncated, dtype=bool)
        lives = np.asarray(info["lives"])
        # With episodic_life, `terminated` fires on every lost life; the game is over only when
        # no life is left (info["terminated"], when EnvPool provides it, says the same directly).
        if "terminated" in info:
            game_over = np.asarray(info["terminated"], dtype=bool)
        else:
            game_over = terminated & (lives == 0)
        raw_reward = np.asarray(info.get("reward", reward), dtype=np.float64)
        # EnvPool resets an env on the step AFTER its game ended (the action is ignored); that
        # step belongs to no game, so it does not lengthen the new one.
        counts = ~self._resetting
        self._resetting = game_over | truncated
        return self._result(obs, reward, game_over, truncated, raw_reward, terminated & ~game_over, counts)


class AleAtari(_AtariBase):
    """ale-py's C++ vector env (`ale_py.vector_env.AtariVectorEnv`, threads, EnvPool's design):
    frame skip 4 with max-pooling, 84x84 grey, stack 4, up to 30 noop starts, FIRE on reset.
    It runs whole games (no `episodic_life`, which would reset the game at every lost life) with
    unclipped rewards; life losses are read from `info["lives"]` and rewards are clipped here.
    Ended games restart in the same step (SAME_STEP autoreset), so every step is a real transition.
    `num_threads` / `cpus`: the env pool's worker threads (one per core of the trainer's share)."""

    def __init__(self, game: str, num_envs: int, device: str = "cpu", seed: int = 0, vec_env: Any = None,
                 sticky_actions: float = 0.25, num_threads: int = 0):
        self.seed = seed
        if vec_env is None:
            vec_env = _make_ale_vector_env(game, num_envs, sticky_actions, num_threads)
        self.vec_env = vec_env
        names = [getattr(a, "name", str(a)) for a in vec_env.ale.get_action_set()]
        super().__init__(rom_name(game), num_envs, device, names)
        self._lives = np.zeros(num_envs, dtype=np.int64)

    def reset(self) -> torch.Tensor:
        obs, info = self.vec_env.reset(seed=self.seed)
        self._lives = np.asarray(info["lives"], dtype=np.int64)
        self.book = _EpisodeBook(self.num_envs)
        return self._obs(obs)

    def step(self, actions: torch.Tensor) -> StepResult:
        self.send(actions)
        return self.recv()

    def send(self, actions: torch.Tensor) -> None:
        """Start every env's step; the emulators run on the pool's threads until recv() collects them,
        so the caller may work meanwhile (rollout_overlapped: the other half's policy forward)."""
        self.vec_env.send(actions.detach().cpu().numpy().astype(np.int64))

    def recv(self) -> StepResult:
        obs, reward, terminated, truncated, info = self.vec_env.recv()
        terminated = np.asarray(terminated, dtype=bool)
        truncated = np.asarray(truncated, dtype=bool)
        lives = np.asarray(info["lives"], dtype=np.int64)
        # For envs whose game just ended, `lives` already belongs to the fresh game; compare the rest.
        life_lost = (lives < self._lives) & ~(terminated | truncated)
        self._lives = lives
        reward = np.asarray(reward, dtype=np.float64)
        return self._result(obs, np.sign(reward), terminated, truncated, reward, life_lost)


class AleAtariHalves:
    """AleAtari(game, num_envs, seed) run as two pools of half the envs (the second seeded where the
    first's seeds end), so that rollout() can run one half's policy forward while the other half's
    emulators step (EnvPool's trick, without its nondeterminism: the halves alternate in a fixed
    order). Env i plays exactly the games env i of the single pool plays, for the same actions, and
    rollout() fills the buffers as the trainer's eager loop does (tests/test_atari_overlap.py).
    The trainer's env interface (reset, step, life_lost, state_dict, ...) is the single pool's. Each
    half gets every core's thread: the halves mostly step in turn."""
    obs_dtype = torch.uint8

    def __init__(self, game: str, num_envs: int, device: str = "cpu", seed: int = 0, sticky_actions: float = 0.25,
                 num_threads: int = 0):
        self.split = num_envs // 2
        if self.split < 1:
            raise ValueError("an overlapped rollout needs at least 2 envs, not %d" % num_envs)
        self.halves = (AleAtari(game, self.split, device, seed, sticky_actions=sticky_actions, num_threads=num_threads),
                       AleAtari(game, num_envs - self.split, device, seed + self.split, sticky_actions=sticky_actions,
                                num_threads=num_threads))
        first = self.halves[0]
        self.game, self.num_envs, self.device = first.game, num_envs, first.device
        self.obs_shape, self.action_names, self.num_actions = first.obs_shape, first.action_names, first.num_actions
        self.parts = (slice(0, self.split), slice(self.split, None))

    @property
    def life_lost(self) -> torch.Tensor:
        return torch.cat([h.life_lost for h in self.halves])

    def reset(self) -> torch.Tensor:
        return torch.cat([h.reset() for h in self.halves])

    def step(self, actions: torch.Tensor) -> StepResult:
        for h, part in zip(self.halves, self.parts):
            h.send(actions[part])
        results = [h.recv() for h in self.halves]
        return StepResult(*(torch.cat([getattr(r, f.name) for r in results]) for f in dataclasses.fields(StepResult)))

    def render(self, index: int) -> np.ndarray:
        return self.halves[0].render(index) if index < self.split else self.halves[1].render(index - self.split)

    def state_dict(self) -> Dict[str, torch.Tensor]:
        return {}

    def load_state_dict(self, state: Dict[str, torch.Tensor]) -> None:
        """Nothing to restore: emulator state is not checkpointed (see module docstring)."""

    def rollout(self, next_obs: torch.Tensor, next_done: torch.Tensor, policy_step: Callable, buf: Any,
                stop: Callable[[], bool] = lambda: False) -> Tuple[torch.Tensor, torch.Tensor, bool]:
        """The trainer's eager Atari rollout (fast_path.env_rollout: every env steps once per t, a lost
        life cuts the bootstrap, buffers [T, N]), overlapped. `policy_step(obs) -> (action, logprob, value)`; `buf`:
        fast_path.RolloutBuffers; `stop()` is asked before each t, as the trainer's loop asks.
        Returns the next observations and done flags, as the trainer's loop leaves them, and whether
        it stopped early (the buffers are then partial, as the trainer's are)."""
        steps, part = buf.actions.shape[0], self.parts
        obs = [next_obs[part[0]], next_obs[part[1]]]
        done = [next_done[part[0]], next_done[part[1]]]

        def act(h: int, t: int) -> None:
            action, logprob, value = policy_step(obs[h])
            buf.put_choice((t, part[h]), action, logprob, value)
            self.halves[h].send(action)

        if stop():
            return next_obs, next_done, True
        buf.put_observation(0, next_obs, next_done)
        act(0, 0)
        for t in range(steps):
            if t > 0 and stop():
                self.halves[0].recv()  # half 0's step t is under way: collect it, leave the pool idle
                return torch.cat(obs), torch.cat(done), True
            act(1, t)  # half 1's forward while half 0's emulators run
            for h in (0, 1):
                result = self.halves[h].recv()
                ended = result.terminated | result.truncated
                obs[h], done[h] = result.obs, ended | self.halves[h].life_lost
                buf.put_outcome((t, part[h]), result, ended)
                if t + 1 < steps:
                    buf.put_observation((t + 1, part[h]), obs[h], done[h])
                    if h == 0:
                        act(0, t + 1)  # half 0's next forward while half 1's emulators run
        return torch.cat(obs), torch.cat(done), False


def rom_name(game: str) -> str:
    """ale-py's ROM id for a game named as in plans and EnvPool: "MsPacman" / "MsPacman-v5" / "ALE/MsPacman-v5"
    -> "ms_pacman"."""
    name = game.split("/")[-1]
    name = re.sub(r"-v\d+$", "", name)
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _make_ale_vector_env(game: str, num_envs: int, sticky_actions: float, num_threads: int):
    try:
        from ale_py import roms
        from ale_py.vector_env import AtariVectorEnv
        from gymnasium.vector import AutoresetMode
    except ImportError as exc:
        raise RuntimeError(ALE_INSTALL) from exc
    rom = rom_name(game)
    if roms.get_rom_path(rom) is None:
        raise ValueError("ale-py has no ROM for '%s' (looked for '%s'); ale-py's games are: %s"
                         % (game, rom, ", ".join(sorted(roms.get_all_rom_ids()))))
    return AtariVectorEnv(
        rom, num_envs,
        num_threads=num_threads,
        repeat_action_probability=sticky_actions,
        autoreset_mode=AutoresetMode.SAME_STEP,
        img_height=SCREEN, img_width=SCREEN, grayscale=True, stack_num=FRAME_STACK,
        frameskip=4, maxpool=True, noop_max=30, use_fire_reset=True,
        episodic_life=False, reward_clipping=False,
    )


def _action_names(env: Any, n: int) -> List[str]:
    """ALE's action meanings when the env exposes them, else ACTION_<i>."""
    for getter in (
        lambda: env.get_action_meanings(),
        lambda: env.call("get_action_meanings")[0],
        lambda: env.unwrapped.get_action_meanings(),
    ):
        try:
            names = list(getter())
            if len(names) == n:
                return [str(x) for x in names]
        except Exception:  # noqa: BLE001 - any API mismatch just means "no names available"
            continue
    return ["ACTION_%d" % i for i in range(n)]
