"""The ale backend for real: ale-py's C++ vector env (ROMs ship with it) + the Nature CNN, as the
supervisor runs it. envpool has no wheel here; its wrapper is tested against a fake pool."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
if os.environ.get("CI") != "true":
    pytest.importorskip("ale_py", reason="pip install 'ale-py>=0.12.1' gymnasium (or bash .ci/run)")

REMOTE = os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, REMOTE)

import torch  # noqa: E402

from gantry_remote.backends import make_env  # noqa: E402

BREAKOUT_LIVES = 5


def _random_actions(steps, num_envs, seed=7):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 4, (num_envs,), generator=gen) for _ in range(steps)]


def test_an_episode_is_a_whole_game_five_lives_and_the_real_score():
    env = make_env("ale", "Breakout", 2, "cpu", seed=3, num_threads=1)
    assert env.action_names == ["NOOP", "FIRE", "RIGHT", "LEFT"] and env.obs_shape == (4, 84, 84)
    env.reset()
    lives_lost = [0, 0]
    games = []  # (env, lives lost during the game, real score, length)
    for actions in _random_actions(1200, 2):
        r = env.step(actions)
        assert set(r.reward.unique().tolist()) <= {0.0, 1.0}  # Breakout scores 1-7 a brick; PPO sees the sign
        for i in range(2):
            lives_lost[i] += int(env.life_lost[i])
            if r.terminated[i] or r.truncated[i]:
                assert not env.life_lost[i]  # the last life is the game's end, not a life loss
                games.append((i, lives_lost[i], float(r.episode_return[i]), int(r.episode_length[i])))
                lives_lost[i] = 0
    assert len(games) >= 4, games
    for _env, lost, score, length in games:
        assert lost == BREAKOUT_LIVES - 1, games  # 4 lives lost on the way, the 5th ends the game
        assert length > 100 and score >= 0


def test_same_seed_same_first_observations_other_seed_differs():
    def first_frames(seed, steps=60):
        env = make_env("ale", "Breakout", 4, "cpu", seed=seed, num_threads=2)
        frames = [env.reset().clone()]
        for actions in _random_actions(steps, 4):
            frames.append(env.step(actions).obs.clone())
        return torch.stack(frames)

    a, b, c = first_frames(11), first_frames(11), first_frames(12)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)  # noop starts and sticky actions follow the seed


def test_ppo_on_real_atari_breakout_writes_metrics_checkpoint_and_a_valid_onnx(tmp_path):
    import onnxruntime as ort

    run_dir = tmp_path / "Breakout"
    argv = [sys.executable, "-m", "gantry_remote", "train", "--game", "Breakout", "--backend", "ale",
            "--run-dir", str(run_dir), "--target-episodes", "1000", "--total-steps", "768", "--num-envs", "2",
            "--num-steps", "128", "--minibatch-size", "64", "--update-epochs", "1", "--device", "cpu"]
    done = subprocess.run(argv, cwd=REMOTE, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "sticky actions 0.25" in done.stdout  # the backend's default, stated in train.log

    completed = json.loads((run_dir / "completed.json").read_text())
    assert completed["reason"] == "total_steps" and completed["global_step"] >= 768
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    # A random Breakout game (5 lives) lasts ~150-250 agent steps: a few real games, not one per life.
    assert 1 <= metrics[-1]["episodes"] <= 10
    assert metrics[-1]["mean_return"] is not None and metrics[-1]["mean_return"] >= 0

    manifest = json.loads((run_dir / "models" / "manifest.json").read_text())
    model = manifest["models"][-1]
    probe = json.loads((run_dir / "models" / model["probe"]).read_text())
    assert probe["input_shape"][1:] == [4, 84, 84]
    session = ort.InferenceSession(str(run_dir / "models" / model["file"]), providers=["CPUExecutionProvider"])
    x = np.asarray(probe["input"], dtype=np.float32).reshape(probe["input_shape"])
    out = session.run([probe["output_name"]], {probe["input_name"]: x})[0]
    assert np.max(np.abs(out.ravel() - np.asarray(probe["output"], dtype=np.float32))) <= 1e-4
