"""Fused multi-step execution of a built-in game on CUDA.

`FusedRandomRollout` runs K steps of a game with random actions drawn on the device, compiled
with torch.compile and captured once as a CUDA graph, so one `run()` is one graph launch: no
Python, no allocation, no host sync per step. It is the shape the trainer's data collection
takes (policy forward + env step per iteration) minus the policy, which makes it the honest
env-only throughput measurement, and a template for capturing a rollout.

Buffers are static: `run()` overwrites the state and the last StepResult in place, so copy
anything you keep across calls.
"""
from typing import Callable, Optional

import torch

from ..tensor_tree import clone_tree, copy_tree
from .base import BuiltinGame, Draws, State, StepResult

ACTION_STREAMS = 300


def random_actions(env: BuiltinGame, state: State) -> torch.Tensor:
    """Uniform random actions as a pure function of the step counter (reproducible)."""
    draws = Draws.for_step(env._env_keys, state["counter"]).streams_from(ACTION_STREAMS)
    return draws.randint(0, 0, env.num_actions).to(torch.int64)


def _allow_many_compiles() -> None:
    # Every game shares BuiltinGame._step_pure's code object; dynamo's default limit of 8
    # variants per code object would silently drop later games back to eager.
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, name):
            setattr(torch._dynamo.config, name, max(getattr(torch._dynamo.config, name), 256))


def compiled_step(env: BuiltinGame, dynamic: bool = False) -> Callable:
    """env step (state, actions) -> (state, StepResult) under torch.compile. dynamic=False
    specialises on the batch size (a trainer's fixed --num-envs); dynamic=True compiles once
    for every batch size."""
    _allow_many_compiles()
    return torch.compile(env._step_pure, dynamic=dynamic)


def compiled_random_step(env: BuiltinGame, dynamic: bool = False) -> Callable:
    """state -> (state, StepResult) with uniform random actions, compiled as one graph so the
    action draw fuses with the step."""
    _allow_many_compiles()

    def random_step(state: State):
        return env._step_pure(state, random_actions(env, state))

    return torch.compile(random_step, dynamic=dynamic)


def eager_random_step(env: BuiltinGame) -> Callable:
    def random_step(state: State):
        return env._step_pure(state, random_actions(env, state))

    return random_step


class FusedRandomRollout:
    def __init__(
        self,
        env: BuiltinGame,
        steps_per_run: int = 32,
        random_step: Optional[Callable] = None,
        warmup: int = 2,
    ):
        if env.device.type != "cuda":
            raise ValueError("FusedRandomRollout captures a CUDA graph; the env must be on a CUDA device")
        self.env = env
        self.steps_per_run = steps_per_run
        random_step = random_step if random_step is not None else compiled_random_step(env)
        self._state = clone_tree(env._state)
        self.result: Optional[StepResult] = None

        def k_steps() -> StepResult:
            state = self._state
            result = None
            for _ in range(steps_per_run):
                state, result = random_step(state)
            copy_tree(self._state, state)
            return result

        # Warm up (compiles, autotunes, allocates) on a side stream, as CUDA graphs require.
        side = torch.cuda.Stream(device=env.device)
        side.wait_stream(torch.cuda.current_stream(env.device))
        with torch.cuda.stream(side):
            for _ in range(warmup):
                k_steps()
        torch.cuda.current_stream(env.device).wait_stream(side)
        self._graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self._graph):
            self.result = k_steps()

    def run(self) -> StepResult:
        self._graph.replay()
        return self.result

    def sync_back(self) -> None:
        """Write the rollout's state back into the env (so state_dict() sees it)."""
        self.env._state = clone_tree(self._state)
