"""Atari vector environments (EnvPool or gymnasium + ale-py) behind the built-in games' interface.

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
import atexit
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from .base import StepResult

ENVPOOL_INSTALL = (
    "The envpool backend needs EnvPool: run `pip install envpool` in the trainer's venv "
    "(EnvPool ships Linux wheels for CPython 3.11 and older only). "
    "On other Pythons use `--backend ale` (`pip install gymnasium[atari] ale-py`)."
)
ALE_INSTALL = ("The ale backend needs gymnasium's Atari support and OpenCV for its frame preprocessing: "
               "run `pip install gymnasium[atari] ale-py opencv-python-headless`.")

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


def _import_gymnasium_atari():
    try:
        import ale_py
        import cv2  # noqa: F401  (AtariPreprocessing resizes frames with OpenCV)
        import gymnasium
    except ImportError as exc:
        raise RuntimeError(ALE_INSTALL) from exc
    if hasattr(gymnasium, "register_envs"):
        gymnasium.register_envs(ale_py)  # gymnasium 1.x no longer registers ALE ids by import alone
    return gymnasium


class EnvPoolAtari(_AtariBase):
    """EnvPool's C++ Atari pool (`<Game>-v5`): frame skip 4, 84x84 grey, stack 4, noop starts,
    episodic life and reward clipping done in C++; we add real-game episode accounting."""

    def __init__(self, game: str, num_envs: int, device: str = "cpu", seed: int = 0, pool: Any = None,
                 sticky_actions: Optional[float] = None):
        task_id = game if game.endswith("-v5") else game + "-v5"
        if pool is None:
            envpool = _import_envpool()
            sticky = {} if sticky_actions is None else {"repeat_action_probability": sticky_actions}
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
                **sticky,
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
    """gymnasium vector env over `ALE/<Game>-v5` with AtariPreprocessing + frame stacking, for
    hosts where EnvPool cannot be installed. Life loss and reward clipping are done here."""

    def __init__(self, game: str, num_envs: int, device: str = "cpu", seed: int = 0, vec_env: Any = None,
                 next_step_reset: bool = False, sticky_actions: Optional[float] = None):
        """`next_step_reset`: the vector env resets an ended game on the following step (gymnasium
        1.0's only mode) instead of in the same step (gymnasium 0.29, and 1.1+ as we configure it)."""
        env_id = game if game.startswith("ALE/") else "ALE/" + (game if game.endswith("-v5") else game + "-v5")
        self.seed = seed
        if vec_env is None:
            vec_env, next_step_reset = _make_ale_vector_env(env_id, num_envs, sticky_actions)
        self.vec_env = vec_env
        self.next_step_reset = next_step_reset
        # The trainer ends in many places (target, total steps, SIGTERM): close the worker
        # processes at exit, before multiprocessing tears their pipes down under them.
        if hasattr(vec_env, "close"):
            atexit.register(vec_env.close)
        names = _action_names(vec_env, int(vec_env.single_action_space.n))
        super().__init__(env_id, num_envs, device, names)
        self._lives = np.zeros(num_envs, dtype=np.int64)
        self._resetting = np.zeros(num_envs, dtype=bool)

    def reset(self) -> torch.Tensor:
        obs, info = self.vec_env.reset(seed=self.seed)
        self._lives = np.asarray(info.get("lives", np.zeros(self.num_envs)), dtype=np.int64)
        self.book = _EpisodeBook(self.num_envs)
        self._resetting[:] = False
        return self._obs(obs)

    def step(self, actions: torch.Tensor) -> StepResult:
        obs, reward, terminated, truncated, info = self.vec_env.step(actions.detach().cpu().numpy())
        terminated = np.asarray(terminated, dtype=bool)
        truncated = np.asarray(truncated, dtype=bool)
        lives = np.asarray(info.get("lives", self._lives), dtype=np.int64)
        # For envs that just ended, `lives` already belongs to the fresh game; only compare the rest.
        life_lost = (lives < self._lives) & ~(terminated | truncated)
        self._lives = lives
        reward = np.asarray(reward, dtype=np.float64)
        counts = None
        if self.next_step_reset:
            counts = ~self._resetting
            self._resetting = terminated | truncated
        return self._result(obs, np.sign(reward), terminated, truncated, reward, life_lost, counts)


def _make_ale_vector_env(env_id: str, num_envs: int, sticky_actions: Optional[float] = None):
    gym = _import_gymnasium_atari()
    stack = getattr(gym.wrappers, "FrameStackObservation", None)
    sticky = {} if sticky_actions is None else {"repeat_action_probability": sticky_actions}

    def make_one():
        env = gym.make(env_id, frameskip=1, **sticky)  # AtariPreprocessing does the frame skip (with max-pooling)
        env = gym.wrappers.AtariPreprocessing(env, frame_skip=4, screen_size=SCREEN, noop_max=30, terminal_on_life_loss=False)
        if stack is not None:
            return stack(env, FRAME_STACK)
        return gym.wrappers.FrameStack(env, FRAME_STACK)  # gymnasium < 1.0

    fns = [make_one for _ in range(num_envs)]
    autoreset = getattr(gym.vector, "AutoresetMode", None)
    if autoreset is not None:
        # Reset in the same step as the game ends, so every step is a real transition.
        return gym.vector.AsyncVectorEnv(fns, autoreset_mode=autoreset.SAME_STEP), False
    next_step = int(gym.__version__.split(".")[0]) >= 1  # 1.0 resets on the next step; 0.29 in the same one
    return gym.vector.AsyncVectorEnv(fns), next_step


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
