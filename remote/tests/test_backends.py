"""Atari backends: install guards, and real-game episode accounting (lives are not episodes),
checked for EnvPool (no wheel here) against a small fake pool that follows its step API. The ale
backend runs for real in test_ale_real.py."""
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gantry_remote import ppo  # noqa: E402
from gantry_remote.backends import make_env  # noqa: E402
from gantry_remote.envs.atari import EnvPoolAtari  # noqa: E402

LIVES = 3


class _Space:
    def __init__(self, n):
        self.n = n


class ScriptedGames:
    """N scripted Atari games: every step scores `2 * (env + 1)` points (raw); env i loses a
    life every `i + 2` steps and the game is over after LIVES lives. Records each real game."""

    def __init__(self, num_envs):
        self.n = num_envs
        self.lives = np.full(num_envs, LIVES)
        self.steps_in_life = np.zeros(num_envs, dtype=int)
        self.score = np.zeros(num_envs)
        self.length = np.zeros(num_envs, dtype=int)
        self.games = []  # (env, score, length) of every finished game, in order
        self.frame = 0

    def obs(self):
        self.frame += 1
        return np.full((self.n, 4, 84, 84), self.frame % 256, dtype=np.uint8)

    def advance(self, active=None):
        """One step of every active game: raw reward, life lost, game over."""
        active = np.ones(self.n, dtype=bool) if active is None else active
        raw = 2.0 * (np.arange(self.n) + 1) * active
        self.steps_in_life += active
        self.score += raw
        self.length += active
        life_lost = active & (self.steps_in_life >= np.arange(self.n) + 2)
        self.lives = self.lives - life_lost
        self.steps_in_life[life_lost] = 0
        game_over = self.lives == 0
        for i in np.flatnonzero(game_over):
            self.games.append((int(i), float(self.score[i]), int(self.length[i])))
        return raw, life_lost, game_over

    def restart(self, mask):
        self.lives[mask] = LIVES
        self.steps_in_life[mask] = 0
        self.score[mask] = 0
        self.length[mask] = 0


class FakeEnvPool(ScriptedGames):
    """EnvPool `env_type="gymnasium"`, episodic_life=True, reward_clip=True: `terminated` on
    every lost life, info["lives"], info["reward"] (unclipped); a finished game is reset on the
    next step, which ignores the action and returns reward 0."""

    def __init__(self, num_envs, with_terminated_info=True):
        super().__init__(num_envs)
        self.action_space = _Space(4)
        self.with_terminated_info = with_terminated_info
        self.pending_reset = np.zeros(num_envs, dtype=bool)

    def reset(self):
        return self.obs(), {"lives": self.lives.copy()}

    def step(self, actions):
        assert actions.shape == (self.n,)
        resetting = self.pending_reset.copy()
        self.restart(resetting)
        raw, life_lost, game_over = self.advance(active=~resetting)  # a reset step plays nothing
        self.pending_reset = game_over
        info = {"lives": self.lives.copy(), "reward": raw}
        if self.with_terminated_info:
            info["terminated"] = game_over
        return self.obs(), np.sign(raw).astype(np.float32), life_lost | game_over, np.zeros(self.n, bool), info


def _run(env, steps):
    env.reset()
    ended, life_losses = [], 0
    for _ in range(steps):
        r = env.step(torch.zeros(env.num_envs, dtype=torch.long))
        assert r.obs.dtype == torch.uint8 and r.obs.shape == (env.num_envs, 4, 84, 84)
        assert set(r.reward.unique().tolist()) <= {0.0, 1.0}  # PPO learns from clipped rewards
        life_losses += int(env.life_lost.sum())
        assert not (env.life_lost & (r.terminated | r.truncated)).any()
        for i in torch.nonzero(r.terminated | r.truncated).flatten().tolist():
            ended.append((i, float(r.episode_return[i]), int(r.episode_length[i])))
    return ended, life_losses


@pytest.mark.parametrize("with_terminated_info", [True, False], ids=["info-terminated", "lives-only"])
def test_envpool_counts_real_games_not_lives(with_terminated_info):
    pool = FakeEnvPool(3, with_terminated_info)
    env = EnvPoolAtari("Breakout", 3, pool=pool)
    ended, life_losses = _run(env, 40)
    assert env.game == "Breakout-v5" and env.num_actions == 4 and env.obs_shape == (4, 84, 84)
    assert ended == pool.games and len(ended) > 3
    # each game: LIVES lives, score 2*(i+1) per step, (i+2) steps per life
    for i, score, length in ended:
        assert length == LIVES * (i + 2) and score == 2.0 * (i + 1) * length
    assert life_losses == sum(LIVES - 1 for _ in ended) + sum((LIVES - pool.lives[i]) for i in range(3))


def test_missing_packages_name_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "envpool", None)  # None in sys.modules makes `import envpool` fail
    monkeypatch.setitem(sys.modules, "ale_py", None)
    with pytest.raises(RuntimeError, match=r"pip install envpool"):
        make_env("envpool", "Pong", 2, "cpu", 0)
    with pytest.raises(RuntimeError, match=r"pip install 'ale-py>=0.12.1' gymnasium"):
        make_env("ale", "Pong", 2, "cpu", 0)
    with pytest.raises(ValueError, match="unknown backend"):
        make_env("retro", "Pong", 2, "cpu", 0)


def test_trainer_on_envpool_backend_counts_games_and_exports_nature_cnn(tmp_path, monkeypatch):
    """The whole trainer on the EnvPool code path (fake pool): Nature CNN on uint8 frames,
    episodes = real games, ONNX export of the 84x84 policy."""
    pools = []

    def make(task_id, **kwargs):
        assert task_id == "Pong-v5" and kwargs["episodic_life"] and kwargs["reward_clip"]
        pools.append(FakeEnvPool(kwargs["num_envs"]))
        return pools[-1]

    monkeypatch.setitem(sys.modules, "envpool", types.SimpleNamespace(make=make))
    rc = ppo.main(["--game", "Pong", "--backend", "envpool", "--run-dir", str(tmp_path), "--device", "cpu",
                   "--num-envs", "2", "--num-steps", "8", "--minibatch-size", "8", "--update-epochs", "1",
                   "--total-steps", "32", "--metrics-seconds", "0"])
    assert rc == 0
    done = json.loads((tmp_path / "completed.json").read_text())
    assert done["global_step"] == 32 and done["episodes"] == len(pools[0].games) > 0
    last = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    expected = [score for _, score, _ in pools[0].games][-100:]
    assert last["mean_return"] == pytest.approx(float(np.mean(expected)))
    model = json.loads((tmp_path / "models" / "manifest.json").read_text())["models"][-1]
    probe = json.loads((tmp_path / "models" / model["probe"]).read_text())
    assert probe["input_shape"] == [1, 4, 84, 84] and len(probe["output"]) == 4


def test_sticky_actions_reach_envpool_explicitly(monkeypatch):
    calls = []

    def make(task_id, **kwargs):
        calls.append(kwargs)
        return FakeEnvPool(kwargs["num_envs"])

    monkeypatch.setitem(sys.modules, "envpool", types.SimpleNamespace(make=make))
    make_env("envpool", "Pong", 2, "cpu", 0)
    make_env("envpool", "Pong", 2, "cpu", 0, sticky_actions=0.25)
    assert calls[0]["repeat_action_probability"] == 0.0  # the envpool default, stated, not left to EnvPool
    assert calls[1]["repeat_action_probability"] == 0.25
