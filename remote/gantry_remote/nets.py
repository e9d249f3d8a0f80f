"""Actor-critic networks, one per observation kind.

* 84x84 Atari frames (frame stack 4, uint8 values 0..255): the Nature CNN (Mnih et al. 2015),
  as in CleanRL's ppo_atari. Pixels are scaled by 1/255 inside the network so the exported
  ONNX model takes the raw frames a user would feed it.
* 10x10 MinAtar-sized grids of the built-in games: one 3x3 conv with 16 channels and a dense
  layer of 128 units, the network MinAtar and gymnax use for their PPO baselines.
"""
from typing import Sequence, Tuple

import numpy as np
import torch
from torch import nn


def layer_init(layer: nn.Module, std: float = float(np.sqrt(2)), bias_const: float = 0.0) -> nn.Module:
    """Orthogonal weights, constant bias: the PPO initialisation that the "37 implementation
    details" study found to matter (small std on the policy head keeps early actions uniform)."""
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class ActorCritic(nn.Module):
    """A shared torso with a policy head (logits) and a value head."""

    def __init__(self, torso: nn.Module, hidden: int, num_actions: int, input_scale: float):
        super().__init__()
        self.torso = torso
        self.actor = layer_init(nn.Linear(hidden, num_actions), std=0.01)
        self.critic = layer_init(nn.Linear(hidden, 1), std=1.0)
        self.input_scale = input_scale

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        return self.torso(obs.float() * self.input_scale)

    def forward(self, obs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden = self.features(obs)
        return self.actor(hidden), self.critic(hidden).squeeze(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(self.features(obs)).squeeze(-1)


class PolicyLogits(nn.Module):
    """The part that is exported to ONNX: observation batch in, action logits out."""

    def __init__(self, agent: ActorCritic):
        super().__init__()
        self.agent = agent

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.agent.actor(self.agent.features(obs))


def nature_cnn(in_channels: int, num_actions: int) -> ActorCritic:
    torso = nn.Sequential(
        layer_init(nn.Conv2d(in_channels, 32, 8, stride=4)),
        nn.ReLU(),
        layer_init(nn.Conv2d(32, 64, 4, stride=2)),
        nn.ReLU(),
        layer_init(nn.Conv2d(64, 64, 3, stride=1)),
        nn.ReLU(),
        nn.Flatten(),
        layer_init(nn.Linear(64 * 7 * 7, 512)),
        nn.ReLU(),
    )
    return ActorCritic(torso, 512, num_actions, input_scale=1.0 / 255.0)


def minatar_net(in_channels: int, height: int, width: int, num_actions: int) -> ActorCritic:
    torso = nn.Sequential(
        layer_init(nn.Conv2d(in_channels, 16, 3, stride=1)),
        nn.ReLU(),
        nn.Flatten(),
        layer_init(nn.Linear(16 * (height - 2) * (width - 2), 128)),
        nn.ReLU(),
    )
    return ActorCritic(torso, 128, num_actions, input_scale=1.0)


def make_agent(obs_shape: Sequence[int], num_actions: int) -> ActorCritic:
    """Pick the network that fits the observation: (C,84,84) frames or a small (C,H,W) grid."""
    if len(obs_shape) != 3:
        raise ValueError("expected an image-like observation (C, H, W), got shape %s" % (tuple(obs_shape),))
    channels, height, width = (int(x) for x in obs_shape)
    if (height, width) == (84, 84):
        return nature_cnn(channels, num_actions)
    if height <= 16 and width <= 16:
        return minatar_net(channels, height, width, num_actions)
    raise ValueError(
        "no network for observations of shape %s: expected (C,84,84) Atari frames or a grid of at most 16x16"
        % (tuple(obs_shape),)
    )
