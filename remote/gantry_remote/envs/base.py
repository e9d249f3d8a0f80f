"""The vectorised-environment contract every backend honours, and the machinery the built-in
games share: counter-based random numbers, sticky actions, episode bookkeeping, auto-reset.

A built-in game is a *pure function* of its state: `_transition(state, action_codes, draws)`
returns new tensors and never writes into its inputs. That is what lets the same code run
eagerly on a CPU, under `torch.compile`, and inside a captured CUDA graph (see `fused.py`).

Tensor lifetime: `reset()` and `step()` return freshly computed tensors; the environment
never writes into them afterwards, so a trainer may keep them across steps without copying.
(The CUDA-graph runner in `fused.py` is the exception and says so.)
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

GRID = 10

# MinAtar's full action alphabet; each game exposes a minimal subset of these codes.
NOOP, LEFT, UP, RIGHT, DOWN, FIRE = range(6)
ACTION_LETTER_NAMES = ("noop", "left", "up", "right", "down", "fire")

State = Dict[str, torch.Tensor]


@dataclass
class StepResult:
    obs: torch.Tensor  # [N, C, 10, 10] float32 0/1; for envs that ended: the new episode's first obs
    reward: torch.Tensor  # [N] float32
    terminated: torch.Tensor  # [N] bool, game over
    truncated: torch.Tensor  # [N] bool, hit max_steps without game over
    episode_return: torch.Tensor  # [N] float32, return of the episode that ended here, else 0
    episode_length: torch.Tensor  # [N] int32, likewise


class VecEnv:
    """What the trainer may rely on, whatever the backend (built-in, envpool, ale)."""

    num_envs: int
    device: torch.device
    obs_shape: Tuple[int, ...]
    num_actions: int
    action_names: List[str]

    def reset(self) -> torch.Tensor:
        raise NotImplementedError

    def step(self, actions: torch.Tensor) -> StepResult:
        raise NotImplementedError

    def render(self, index: int = 0) -> np.ndarray:
        raise NotImplementedError

    def state_dict(self) -> dict:
        raise NotImplementedError

    def load_state_dict(self, d: dict) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Counter-based random numbers.
#
# Every draw is hash(env key, step counter, stream id), so the randomness of step t in env i
# depends on nothing else: results are reproducible for a seed, identical across devices, and
# a resume only needs the counter. int32 arithmetic wraps modulo 2**32 (what the hash wants);
# right shifts are masked because torch shifts signed integers arithmetically.
# ---------------------------------------------------------------------------------------------
_MUL1 = 0x7FEB352D
_MUL2 = -2073254261  # 0x846CA68B as a signed int32
_GOLDEN = -1640531527  # 0x9E3779B9 as a signed int32
_STREAM_MUL = 668265263  # 0x27D4EB2F
_LANE_MUL = -2048144789  # 0x85EBCA6B as a signed int32


def mix32(x: torch.Tensor) -> torch.Tensor:
    """Chris Wellons' lowbias32 integer hash on int32 tensors (bijective, good avalanche)."""
    x = x ^ ((x >> 16) & 0xFFFF)
    x = x * _MUL1
    x = x ^ ((x >> 15) & 0x1FFFF)
    x = x * _MUL2
    x = x ^ ((x >> 16) & 0xFFFF)
    return x


class Draws:
    """Random numbers for one step of all envs. Stream ids keep independent uses apart."""

    def __init__(self, base: torch.Tensor, stream_offset: int = 0):
        self.base = base  # [N] int32, already mixed with env key and step counter
        self.stream_offset = stream_offset

    @property
    def batch(self):
        """(num_envs, device) taken from the tensors, so traced code never bakes in a size."""
        return self.base.shape[0], self.base.device

    def streams_from(self, offset: int) -> "Draws":
        """The same step's randomness, seen through a disjoint range of stream ids."""
        return Draws(self.base, offset)

    @staticmethod
    def for_step(env_keys: torch.Tensor, counter: torch.Tensor) -> "Draws":
        return Draws(mix32(env_keys ^ mix32(counter * _GOLDEN + 0x632BE5AB)))

    def bits(self, stream: int, width: Optional[int] = None) -> torch.Tensor:
        h = self.base ^ ((self.stream_offset + stream) * _STREAM_MUL)
        if width is not None:
            lanes = torch.arange(width, dtype=torch.int32, device=h.device) * _LANE_MUL
            h = h[:, None] + lanes
        return mix32(mix32(h))

    def uniform(self, stream: int, width: Optional[int] = None) -> torch.Tensor:
        """float32 in [0, 1) with 24 random bits."""
        return ((self.bits(stream, width) >> 8) & 0xFFFFFF).to(torch.float32) * (1.0 / 16777216.0)

    def randint(self, stream: int, low: int, high: int, width: Optional[int] = None) -> torch.Tensor:
        """int32 uniform in [low, high)."""
        u = self.uniform(stream, width)
        return (u * (high - low)).to(torch.int32).clamp_(max=high - low - 1) + low

    def coin(self, stream: int, p_true: float = 0.5, width: Optional[int] = None) -> torch.Tensor:
        return self.uniform(stream, width) < p_true


def env_keys_for(seed: int, num_envs: int, device: torch.device) -> torch.Tensor:
    seed32 = int(seed) & 0xFFFFFFFF
    seed32 = seed32 - (1 << 32) if seed32 >= (1 << 31) else seed32
    seed_key = mix32(torch.tensor([seed32], dtype=torch.int32, device=device))
    return mix32(torch.arange(num_envs, dtype=torch.int32, device=device) * _GOLDEN + seed_key)


# Stream ranges: the wrapper, the game's transition and the game's reset never share a stream.
STICKY_STREAM = 0
TRANSITION_STREAMS = 100
RESET_STREAMS = 200


# ---------------------------------------------------------------------------------------------
# Grid helpers used by the games' observation functions.
# ---------------------------------------------------------------------------------------------
def cell_mask(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """[N] row/col -> [N, 10, 10] bool with one cell set (nothing when out of the grid)."""
    rows = torch.arange(GRID, device=y.device)
    return (rows.view(1, GRID, 1) == y.view(-1, 1, 1)) & (rows.view(1, 1, GRID) == x.view(-1, 1, 1))


def cells_mask(y: torch.Tensor, x: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """[N, K] row/col/present -> [N, 10, 10] bool, the union of the present, in-grid cells."""
    if torch.compiler.is_compiling():
        # Under inductor an unrolled OR of K pointwise tests fuses into the kernel that writes
        # the observation; the broadcast-and-reduce form below becomes separate reductions.
        rows = torch.arange(GRID, device=y.device, dtype=y.dtype).view(1, GRID, 1)
        cols = torch.arange(GRID, device=y.device, dtype=x.dtype).view(1, 1, GRID)
        out = torch.zeros((y.shape[0], GRID, GRID), dtype=torch.bool, device=y.device)
        for k in range(y.shape[1]):
            yk, xk, pk = y[:, k].view(-1, 1, 1), x[:, k].view(-1, 1, 1), present[:, k].view(-1, 1, 1)
            out = out | (pk & (yk == rows) & (xk == cols))
        return out
    inside = present & (y >= 0) & (y < GRID) & (x >= 0) & (x < GRID)
    flat = torch.where(inside, y * GRID + x, torch.full_like(y, GRID * GRID))
    cells = torch.arange(GRID * GRID + 1, device=y.device, dtype=flat.dtype)
    hits = (flat.unsqueeze(-1) == cells).any(dim=1)
    return hits[:, : GRID * GRID].view(-1, GRID, GRID)


def step_toward(x: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """x + 1 where `right` else x - 1 (MinAtar's `x += 1 if lr else -1`)."""
    return x + right.to(x.dtype) * 2 - 1


# A distinct colour per channel for render(); background black.
CHANNEL_PALETTE = np.array(
    [
        (255, 214, 10), (230, 57, 70), (69, 123, 157), (168, 218, 220), (42, 157, 143),
        (244, 162, 97), (231, 111, 81), (131, 56, 236), (58, 134, 255), (255, 0, 110),
    ],
    dtype=np.uint8,
)


class BuiltinGame(VecEnv):
    """Batched MinAtar-rules game. Subclasses define the rules; this class runs them.

    Subclass contract (all pure tensor functions, no host sync, no loops over envs):
      channels:        tuple of channel names (obs channel order)
      action_codes:    tuple of MinAtar action codes forming the minimal action set
      _initial_state(draws) -> State           fresh start state for every env
      _transition(state, codes, draws) -> (State, reward [N] float32, terminal [N] bool)
      _observe(state) -> [N, C, 10, 10] bool
    """

    game_id: str = ""
    channels: Tuple[str, ...] = ()
    action_codes: Tuple[int, ...] = ()

    def __init__(
        self,
        num_envs: int,
        device="cpu",
        seed: int = 0,
        sticky_p: float = 0.1,
        max_steps: int = 10_000,
        compile: bool = False,
    ):
        if num_envs < 1:
            raise ValueError("num_envs must be at least 1")
        self.num_envs = int(num_envs)
        self.device = torch.device(device)
        self.obs_shape = (len(self.channels), GRID, GRID)
        self.num_actions = len(self.action_codes)
        self.action_names = [ACTION_LETTER_NAMES[c] for c in self.action_codes]
        self.sticky_p = float(sticky_p)
        self.max_steps = int(max_steps)
        self.seed = int(seed)
        self._code_table = torch.tensor(self.action_codes, dtype=torch.int32, device=self.device)
        self._env_keys = env_keys_for(self.seed, self.num_envs, self.device)
        self._step_fn = self._step_pure
        if compile:
            # Fuses the whole step (game rules, auto-reset, observation) into a few kernels.
            self._step_fn = torch.compile(self._step_pure, dynamic=False)
        self._state: State = {}
        self._prepare_constants()
        self.reset()

    # -- the trainer-facing API -----------------------------------------------------------
    def reset(self) -> torch.Tensor:
        counter = torch.zeros((), dtype=torch.int32, device=self.device)
        draws = Draws.for_step(self._env_keys, counter - 1)  # a counter value steps never use
        n = self.num_envs
        self._state = {
            "game": self._initial_state(draws.streams_from(RESET_STREAMS)),
            "counter": counter,
            "last_action": torch.zeros(n, dtype=torch.int64, device=self.device),
            "ep_return": torch.zeros(n, dtype=torch.float32, device=self.device),
            "ep_length": torch.zeros(n, dtype=torch.int32, device=self.device),
        }
        return self._observe(self._state["game"]).to(torch.float32)

    def step(self, actions: torch.Tensor) -> StepResult:
        self._state, result = self._step_fn(self._state, actions.to(self.device, torch.int64))
        return result

    def render(self, index: int = 0, scale: int = 16) -> np.ndarray:
        layers = self._observe(self._state["game"])[index].cpu().numpy()  # [C, 10, 10] bool
        image = np.zeros((GRID, GRID, 3), dtype=np.uint8)
        for channel in range(layers.shape[0]):  # later channels paint over earlier ones
            image[layers[channel]] = CHANNEL_PALETTE[channel % len(CHANNEL_PALETTE)]
        return np.kron(image, np.ones((scale, scale, 1), dtype=np.uint8))

    def state_dict(self) -> dict:
        flat = {"game." + k: v.clone() for k, v in self._state["game"].items()}
        for key in ("counter", "last_action", "ep_return", "ep_length"):
            flat[key] = self._state[key].clone()
        flat["env_keys"] = self._env_keys.clone()
        return flat

    def load_state_dict(self, d: dict) -> None:
        keys = d["env_keys"].to(self.device)
        if keys.shape != self._env_keys.shape:
            raise ValueError(
                "checkpoint holds %d envs but this environment has %d; start it with the same "
                "--num-envs to resume" % (keys.shape[0], self.num_envs)
            )
        self._env_keys = keys.clone()
        game = {k[len("game."):]: v.to(self.device).clone() for k, v in d.items() if k.startswith("game.")}
        missing = set(self._state["game"]) - set(game)
        if missing:
            raise ValueError("state dict for %s lacks %s" % (self.game_id, sorted(missing)))
        self._state = {"game": game}
        for key in ("counter", "last_action", "ep_return", "ep_length"):
            self._state[key] = d[key].to(self.device).clone()

    @property
    def game_state(self) -> State:
        """The live rule state (one [N, ...] tensor per field). For tests and debugging: writing
        into these tensors sets up a scenario for the next step."""
        return self._state["game"]

    # -- one step of every env, as a pure function of (state, actions) ---------------------
    def _step_pure(self, state: State, actions: torch.Tensor):
        counter = state["counter"]
        draws = Draws.for_step(self._env_keys, counter)
        # Sticky actions (Machado et al. 2018, as in MinAtar): repeat the previous action.
        sticky = draws.uniform(STICKY_STREAM) < self.sticky_p
        taken = torch.where(sticky, state["last_action"], actions)
        codes = self._code_table[taken]

        game, reward, terminated = self._transition(state["game"], codes, draws.streams_from(TRANSITION_STREAMS))
        ep_return = state["ep_return"] + reward
        ep_length = state["ep_length"] + 1
        truncated = (ep_length >= self.max_steps) & ~terminated
        done = terminated | truncated

        fresh = self._initial_state(draws.streams_from(RESET_STREAMS))
        game = {k: torch.where(done.view((-1,) + (1,) * (v.dim() - 1)), fresh[k], v) for k, v in game.items()}
        zero_f = torch.zeros_like(ep_return)
        zero_i = torch.zeros_like(ep_length)
        result = StepResult(
            obs=self._observe(game).to(torch.float32),
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            episode_return=torch.where(done, ep_return, zero_f),
            episode_length=torch.where(done, ep_length, zero_i),
        )
        new_state = {
            "game": game,
            "counter": counter + 1,
            "last_action": torch.where(done, torch.zeros_like(taken), taken),
            "ep_return": torch.where(done, zero_f, ep_return),
            "ep_length": torch.where(done, zero_i, ep_length),
        }
        return new_state, result

    # -- rules, supplied by each game ------------------------------------------------------
    def _prepare_constants(self) -> None:
        """Build device-resident constant tensors (called once, before the first reset)."""
    def _initial_state(self, draws: Draws) -> State:
        raise NotImplementedError

    def _transition(self, state: State, codes: torch.Tensor, draws: Draws):
        raise NotImplementedError

    def _observe(self, state: State) -> torch.Tensor:
        raise NotImplementedError
