"""CUDA-graph fast path for the PPO trainer on a GPU.

One eager trainer is launch-bound: a rollout of a MinAtar-sized game plus the minibatch updates
is tens of thousands of tiny kernels, each launched from Python, so the GPU mostly waits. Here
the same work is captured once as CUDA graphs and replayed:

* the epoch graph (GraphedUpdate, every backend): one pass over the rollout: a permutation drawn
  on the device, then per minibatch a gather by index, the loss, backward, the grad-norm clip and
  a capturable Adam step;
* the rollout graph (GraphedPPO, the built-in games only, whose envs step on the device):
  num_steps x (policy forward, Gumbel-max sampling, env step) into the epoch graph's static
  buffers, then the bootstrap value and GAE (the reverse loop, unrolled into the graph).

For the built-in games Python does per rollout one rollout replay, `update_epochs` epoch replays
and the one host copy of the episode statistics the eager loop also does. For Atari (ale, envpool)
the emulators run on the CPU, so the rollout and GAE stay eager, writing into the epoch graph's
buffers, and only the epochs replay: 4 epochs x 128 minibatches of 256 are 512 gradient steps a
rollout, each ~3.6 ms of launch-bound Python when eager.

The functions that do the work (`collect_rollout`, `env_rollout`, `compute_gae`, `update_epoch`) are plain
eager PyTorch, the same on a CPU; tests/test_fast_path.py checks them against the trainer's
eager loop. What graphs impose: static shapes (fixed --num-envs and --minibatch-size), the env
state and next observation live in fixed tensors that the rollout graph overwrites (the env's
`state_dict()` reads them, so checkpoints see the live state), and the learning rate lives in a
device tensor (`set_learning_rate` fills it). Random numbers come from the CUDA generator, whose
offset each replay advances, so `torch.cuda.get/set_rng_state` still make a resume exact.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import torch

from . import dynamo_free
from .tensor_tree import clone_tree, copy_tree

Tensor = torch.Tensor


# ----------------------------------------------------------------------------------------------
# The work, as eager functions (captured on CUDA, run as they are in the CPU tests)
# ----------------------------------------------------------------------------------------------
@dataclass
class RolloutBuffers:
    obs: Tensor  # [T, N, C, H, W]
    actions: Tensor  # [T, N] int64
    logprobs: Tensor  # [T, N]
    rewards: Tensor  # [T, N]
    dones: Tensor  # [T, N] float: the episode ended just before obs[t]
    values: Tensor  # [T, N]
    ended: Tensor  # [T, N] bool: an episode ended at step t (for the statistics)
    ep_return: Tensor  # [T, N] return of that episode, else 0
    advantages: Tensor  # [T, N]
    returns: Tensor  # [T, N]

    @classmethod
    def allocate(cls, num_steps: int, num_envs: int, obs_shape: Sequence[int], obs_dtype: torch.dtype,
                 device: torch.device) -> "RolloutBuffers":
        tn = (num_steps, num_envs)
        return cls(
            obs=torch.zeros(tn + tuple(obs_shape), dtype=obs_dtype, device=device),
            actions=torch.zeros(tn, dtype=torch.long, device=device),
            logprobs=torch.zeros(tn, device=device),
            rewards=torch.zeros(tn, device=device),
            dones=torch.zeros(tn, device=device),
            values=torch.zeros(tn, device=device),
            ended=torch.zeros(tn, dtype=torch.bool, device=device),
            ep_return=torch.zeros(tn, device=device),
            advantages=torch.zeros(tn, device=device),
            returns=torch.zeros(tn, device=device),
        )

    def put_observation(self, at: Any, obs: Tensor, done: Tensor) -> None:
        """What the policy sees at step `at` (t, or (t, envs)): the observations, and whether an episode ended just before."""
        self.obs[at] = obs
        self.dones[at] = done

    def put_choice(self, at: Any, action: Tensor, logprob: Tensor, value: Tensor) -> None:
        """What the policy chose at step `at`, with its log-probability and value estimate."""
        self.actions[at] = action
        self.logprobs[at] = logprob
        self.values[at] = value

    def put_outcome(self, at: Any, result: Any, ended: Tensor) -> None:
        """The env's answer to step `at` (a StepResult): the reward, whether an episode ended there, its real score."""
        self.rewards[at] = result.reward
        self.ended[at] = ended
        self.ep_return[at] = result.episode_return

    def flat_batch(self) -> Tuple[Tensor, ...]:
        """(obs, actions, logprobs, advantages, returns, values) as [T*N, ...] views, in the
        argument order of the trainer's minibatch_loss."""
        t, n = self.actions.shape
        return (self.obs.view((t * n,) + tuple(self.obs.shape[2:])), self.actions.view(-1), self.logprobs.view(-1),
                self.advantages.view(-1), self.returns.view(-1), self.values.view(-1))


def collect_rollout(step_env: Callable, state: Any, next_obs: Tensor, next_done: Tensor, policy_step: Callable,
                    buf: RolloutBuffers) -> Tuple[Any, Tensor, Tensor]:
    """num_steps steps of every env, exactly as env_rollout takes them (what the rollout graph captures).
    step_env(state, actions) -> (state, StepResult) is a built-in game's pure step."""
    for t in range(buf.actions.shape[0]):
        buf.put_observation(t, next_obs, next_done)
        action, logprob, value = policy_step(next_obs)
        buf.put_choice(t, action, logprob, value)
        state, result = step_env(state, action)
        next_obs = result.obs
        next_done = result.terminated | result.truncated
        buf.put_outcome(t, result, next_done)
    return state, next_obs, next_done


def env_rollout(env: Any, next_obs: Tensor, next_done: Tensor, policy_step: Callable, buf: RolloutBuffers,
                stop: Callable[[], bool] = lambda: False,
                on_first_step: Optional[Callable[[], None]] = None) -> Tuple[Tensor, Tensor, bool]:
    """The trainer's eager rollout over an env object (Atari on ale or envpool, a built-in game off the
    graph path): num_steps steps of every env, `stop()` asked before each. An env with `life_lost`
    (Atari) cuts the bootstrap at a lost life without ending the episode. Returns the next observations
    and done flags, and whether it stopped early (the buffers are then partial)."""
    for t in range(buf.actions.shape[0]):
        if stop():
            return next_obs, next_done, True
        buf.put_observation(t, next_obs, next_done)
        action, logprob, value = policy_step(next_obs)
        buf.put_choice(t, action, logprob, value)
        result = env.step(action)
        ended = result.terminated | result.truncated
        life_lost = getattr(env, "life_lost", None)
        next_obs, next_done = result.obs, ended if life_lost is None else ended | life_lost
        buf.put_outcome(t, result, ended)
        if t == 0 and on_first_step is not None:
            on_first_step()
    return next_obs, next_done, False


def compute_gae(rewards: Tensor, values: Tensor, dones: Tensor, next_value: Tensor, next_done: Tensor,
                gamma: float, gae_lambda: float, out: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Generalised advantage estimation (the reverse loop of the trainer), -> (advantages, returns).
    `out` receives the advantages when given (the graph's static buffer)."""
    steps = rewards.shape[0]
    advantages = torch.empty_like(rewards) if out is None else out
    last_gae = torch.zeros_like(next_value)
    for t in reversed(range(steps)):
        if t == steps - 1:
            bootstrap, nonterminal = next_value, 1.0 - next_done.float()
        else:
            bootstrap, nonterminal = values[t + 1], 1.0 - dones[t + 1]
        delta = rewards[t] + gamma * bootstrap * nonterminal - values[t]
        last_gae = delta + gamma * gae_lambda * nonterminal * last_gae
        advantages[t] = last_gae
    return advantages, advantages + values


def update_epoch(agent: torch.nn.Module, optimizer: torch.optim.Optimizer, minibatch_loss: Callable,
                 batch: Sequence[Tensor], order: Tensor, minibatch_size: int, max_grad_norm: float) -> Tensor:
    """One pass over the batch in `order`, one optimizer step per minibatch (the trainer's inner
    loop). Returns the last minibatch's loss statistics."""
    stats = None
    for start in range(0, order.numel(), minibatch_size):
        idx = order[start:start + minibatch_size]
        loss, stats = minibatch_loss(*(x[idx] for x in batch))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(agent.parameters(), max_grad_norm)
        dynamo_free.step(optimizer)
    assert stats is not None
    return stats


def device_permutation(n: int, device: torch.device) -> Tensor:
    """A uniform random permutation from one rand + one sort (both safe inside a CUDA graph)."""
    return torch.argsort(torch.rand(n, device=device))


# ----------------------------------------------------------------------------------------------
# Optimizer state that travels between the graph path (tensor lr, capturable) and the eager one
# ----------------------------------------------------------------------------------------------
def set_learning_rate(optimizer: torch.optim.Optimizer, value: float) -> None:
    for group in optimizer.param_groups:
        if isinstance(group["lr"], Tensor):
            group["lr"].fill_(value)  # a captured Adam step reads this tensor
        else:
            group["lr"] = value


def learning_rate(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


def portable_optimizer_state(state: Dict[str, Any]) -> Dict[str, Any]:
    """An optimizer state_dict (already copied) with plain float learning rates, so a checkpoint
    written by the graph path loads into the eager one and back."""
    for group in state["param_groups"]:
        group["lr"] = float(group["lr"])
    return state


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: Dict[str, Any]) -> None:
    """load_state_dict, keeping this optimizer's own implementation flags (a checkpoint from a
    capturable GPU optimizer must not make a CPU one capturable, nor the reverse)."""
    own = [{k: g[k] for k in ("capturable", "fused", "foreach") if k in g} for g in optimizer.param_groups]
    saved = dict(state, param_groups=[dict(g, **flags) for g, flags in zip(state["param_groups"], own)])
    lr_tensors = [g["lr"] if isinstance(g["lr"], Tensor) else None for g in optimizer.param_groups]
    optimizer.load_state_dict(saved)
    for group, tensor in zip(optimizer.param_groups, lr_tensors):
        if tensor is not None:  # keep the captured tensor, take the saved value
            tensor.fill_(float(group["lr"]))
            group["lr"] = tensor


# ----------------------------------------------------------------------------------------------
# The captured trainer step
# ----------------------------------------------------------------------------------------------
def can_use_graphs(env: Any, device: torch.device) -> bool:
    """Whether the rollout can be captured too: a built-in game (a pure step on device tensors) on CUDA.
    The update epoch can be captured on any CUDA device, whatever steps the envs."""
    return device.type == "cuda" and hasattr(env, "_step_fn") and hasattr(env, "_state")


def capture_graphs(device: torch.device, functions: Sequence[Callable[[], None]], warmup: int,
                   save: Callable[[], Any], restore: Callable[[Any], None]) -> Tuple[Any, ...]:
    """Warm `functions` up in turn on a side stream (cuDNN autotuning, Adam's lazy state, workspaces),
    capture each as a CUDA graph, then undo what the warm-up changed: restore(save()) and the CUDA RNG."""
    saved, rng = save(), torch.cuda.get_rng_state(device)
    side = torch.cuda.Stream(device=device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(warmup):
            for function in functions:
                function()
    torch.cuda.current_stream(device).wait_stream(side)
    graphs = []
    for function in functions:
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            function()
        graphs.append(graph)
    restore(saved)
    torch.cuda.set_rng_state(rng, device)
    torch.cuda.synchronize(device)
    return tuple(graphs)


class GraphedUpdate:
    """One update epoch captured as a CUDA graph over static rollout buffers: whatever collects the
    rollout (the eager loop stepping Atari emulators on the CPU, or GraphedPPO's rollout graph) writes
    into `buffers` and their advantages/returns, then each update_epoch() replays the epoch. Build it
    after a resume has loaded the agent and optimizer; it leaves them (and the CUDA RNG) as it found them.

    minibatch_loss(obs, actions, logprobs, advantages, returns, values) -> (loss, stats[5]) is the
    trainer's own, so both paths optimise the same objective."""

    def __init__(self, agent: torch.nn.Module, optimizer: torch.optim.Optimizer, buffers: RolloutBuffers, *,
                 minibatch_size: int, max_grad_norm: float, minibatch_loss: Callable, warmup: int = 2):
        device = buffers.actions.device
        if device.type != "cuda":
            raise ValueError("CUDA graphs need a CUDA device; use --no-cuda-graphs")
        for group in optimizer.param_groups:
            if not group.get("capturable"):
                raise ValueError("CUDA graphs need an optimizer created with capturable=True")
            if not isinstance(group["lr"], Tensor):
                group["lr"] = torch.tensor(float(group["lr"]), dtype=torch.float32, device=device)
        self.agent, self.optimizer, self.buffers = agent, optimizer, buffers
        self.minibatch_loss, self.max_grad_norm = minibatch_loss, max_grad_norm
        self.batch = buffers.flat_batch()
        self.batch_size = self.batch[1].numel()
        self.minibatch_size = min(minibatch_size, self.batch_size)
        self.last_stats = torch.zeros(5, device=device)
        self.device = device
        (self.epoch_graph,) = capture_graphs(device, [self._epoch], warmup, self._save, self._restore)

    def _epoch(self) -> None:  # what the graph runs
        order = device_permutation(self.batch_size, self.device)
        stats = update_epoch(self.agent, self.optimizer, self.minibatch_loss, self.batch, order,
                             self.minibatch_size, self.max_grad_norm)
        self.last_stats.copy_(stats)

    def update_epoch(self) -> Tensor:
        """One epoch of minibatch updates on the rollout in the buffers; returns the (static) loss
        stats [policy, value, entropy, approx_kl, clipfrac] of its last minibatch."""
        self.epoch_graph.replay()
        return self.last_stats

    # -- undoing the warm-up -------------------------------------------------------------------
    def _save(self) -> Dict[str, Any]:
        opt_state = {}
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                opt_state[p] = {k: v.clone() for k, v in self.optimizer.state.get(p, {}).items() if isinstance(v, Tensor)}
        return {"agent": {k: v.clone() for k, v in self.agent.state_dict().items()}, "optimizer": opt_state}

    def _restore(self, saved: Dict[str, Any]) -> None:
        with torch.no_grad():
            live = self.agent.state_dict()
            for k, v in saved["agent"].items():
                live[k].copy_(v)
            for p, before in saved["optimizer"].items():
                for k, v in self.optimizer.state.get(p, {}).items():
                    if isinstance(v, Tensor):
                        # state Adam created lazily during the warm-up goes back to its fresh value
                        v.copy_(before[k]) if k in before else v.zero_()


class GraphedPPO:
    """The built-in games' whole trainer step as graphs: a captured rollout (+ GAE) into the static
    buffers of a GraphedUpdate. Build it after a resume has loaded the agent, optimizer, env and RNG
    state; it leaves all of them as it found them.

    policy_step(obs) -> (action, logprob, value); bootstrap_value(obs) -> value; minibatch_loss as
    GraphedUpdate's: the trainer's own functions."""

    def __init__(self, env: Any, agent: torch.nn.Module, optimizer: torch.optim.Optimizer, *, num_steps: int,
                 minibatch_size: int, gamma: float, gae_lambda: float, max_grad_norm: float,
                 policy_step: Callable, bootstrap_value: Callable, minibatch_loss: Callable,
                 next_obs: Tensor, next_done: Tensor, warmup: int = 2):
        device = next_obs.device
        if not can_use_graphs(env, device):
            raise ValueError("a captured rollout needs a built-in game on a CUDA device; use --no-cuda-graphs")
        self.env = env
        self.gamma, self.gae_lambda = gamma, gae_lambda
        self.policy_step, self.bootstrap_value = policy_step, bootstrap_value
        self.buffers = RolloutBuffers.allocate(num_steps, next_obs.shape[0], next_obs.shape[1:], next_obs.dtype, device)
        self.update = GraphedUpdate(agent, optimizer, self.buffers, minibatch_size=minibatch_size,
                                    max_grad_norm=max_grad_norm, minibatch_loss=minibatch_loss, warmup=warmup)
        # Fixed homes for what a rollout carries over to the next one. The env keeps reading its
        # state from here, so env.state_dict() and checkpoints see what the graph wrote.
        self.next_obs = next_obs.clone()
        self.next_done = next_done.clone()
        env._state = clone_tree(env._state)
        self.state = env._state
        (self.rollout_graph,) = capture_graphs(device, [self._rollout], warmup, self._save, self._restore)

    def _rollout(self) -> None:  # what the graph runs
        b = self.buffers
        state, next_obs, next_done = collect_rollout(self.env._step_fn, self.state, self.next_obs, self.next_done,
                                                     self.policy_step, b)
        copy_tree(self.state, state)
        self.next_obs.copy_(next_obs)
        self.next_done.copy_(next_done)
        next_value = self.bootstrap_value(self.next_obs)
        _, returns = compute_gae(b.rewards, b.values, b.dones, next_value, self.next_done, self.gamma,
                                 self.gae_lambda, out=b.advantages)
        b.returns.copy_(returns)

    def rollout(self) -> RolloutBuffers:
        """num_steps steps of every env + GAE; advances next_obs, next_done and the env state."""
        self.rollout_graph.replay()
        return self.buffers

    def update_epoch(self) -> Tensor:
        return self.update.update_epoch()

    # -- undoing the warm-up (a rollout changes no weights) --------------------------------------
    def _save(self) -> Dict[str, Any]:
        return {"env": clone_tree(self.state), "next_obs": self.next_obs.clone(), "next_done": self.next_done.clone()}

    def _restore(self, saved: Dict[str, Any]) -> None:
        copy_tree(self.state, saved["env"])
        self.next_obs.copy_(saved["next_obs"])
        self.next_done.copy_(saved["next_done"])
