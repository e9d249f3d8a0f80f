"""The overlapped Atari rollout (envs/atari.py AleAtariHalves: two half pools, one half's policy forward while the
other half's emulators step) against the trainer's eager loop, on real ale-py Breakout: the same
games, the same buffers, the same life-loss cuts and real scores."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")
if os.environ.get("CI") != "true":
    pytest.importorskip("ale_py", reason="pip install 'ale-py>=0.12.1' gymnasium (or bash .ci/run)")

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(TESTS))

import torch  # noqa: E402

from gantry_remote.envs.atari import AleAtari, AleAtariHalves  # noqa: E402
from gantry_remote.fast_path import RolloutBuffers, env_rollout  # noqa: E402

ENVS, STEPS, SEED = 6, 200, 4  # 200 steps of 6 random-ish Breakout games: lives lost and games over in both halves


def policy_step(obs):
    """Deterministic, and a function of each env's own observation only (as the trainer's policy is),
    so both rollouts take the same actions without sharing a random stream."""
    mean = obs.float().mean(dim=(1, 2, 3))
    action = (mean * 13).long() % 4
    return action, -mean, mean * 0.5


def test_halves_play_the_same_games_as_the_single_pool():
    single = AleAtari("Breakout", ENVS, seed=SEED, num_threads=1)
    halves = AleAtariHalves("Breakout", ENVS, seed=SEED, num_threads=1)
    assert (halves.obs_shape, halves.action_names) == (single.obs_shape, single.action_names)
    assert torch.equal(single.reset(), halves.reset())
    gen = torch.Generator().manual_seed(0)
    for _ in range(150):
        actions = torch.randint(0, 4, (ENVS,), generator=gen)
        whole, split = single.step(actions), halves.step(actions)
        for field in ("obs", "reward", "terminated", "truncated", "episode_return", "episode_length"):
            assert torch.equal(getattr(whole, field), getattr(split, field)), field
        assert torch.equal(single.life_lost, halves.life_lost)


def test_overlapped_rollout_fills_the_buffers_exactly_as_the_trainers_loop():
    single = AleAtari("Breakout", ENVS, seed=SEED, sticky_actions=0.25, num_threads=2)
    halves = AleAtariHalves("Breakout", ENVS, seed=SEED, sticky_actions=0.25, num_threads=2)
    a = RolloutBuffers.allocate(STEPS, ENVS, single.obs_shape, torch.uint8, torch.device("cpu"))
    b = RolloutBuffers.allocate(STEPS, ENVS, single.obs_shape, torch.uint8, torch.device("cpu"))
    done0 = torch.zeros(ENVS, dtype=torch.bool)
    obs_a, done_a = single.reset(), done0
    obs_b, done_b = halves.reset(), done0
    for _ in range(2):  # two rollouts: the second starts from what the first left
        obs_a, done_a, aborted = env_rollout(single, obs_a, done_a, policy_step, a)
        assert not aborted
        obs_b, done_b, aborted = halves.rollout(obs_b, done_b, policy_step, b)
        assert not aborted
        for field in ("obs", "actions", "logprobs", "rewards", "dones", "values", "ended", "ep_return"):
            assert torch.equal(getattr(a, field), getattr(b, field)), field
        assert torch.equal(obs_a, obs_b) and torch.equal(done_a, done_b)
    # What the comparison covered: games over (real 5-life scores) and lives lost mid-game.
    assert a.ended.any()
    assert (a.dones.bool() & ~torch.cat([torch.zeros(1, ENVS, dtype=torch.bool), a.ended[:-1]])).any()
    assert set(a.rewards.unique().tolist()) <= {0.0, 1.0}


def test_a_stop_during_the_overlapped_rollout_leaves_the_pool_usable():
    halves = AleAtariHalves("Breakout", 4, seed=SEED, num_threads=1)
    buf = RolloutBuffers.allocate(16, 4, halves.obs_shape, torch.uint8, torch.device("cpu"))
    asked = []

    def stop():  # SIGTERM arrives before step 5, as the trainer's StopFlag would say
        asked.append(1)
        return len(asked) > 5

    obs, done, aborted = halves.rollout(halves.reset(), torch.zeros(4, dtype=torch.bool), policy_step, buf, stop)
    assert aborted and len(asked) == 6 and obs.shape == (4, 4, 84, 84)
    assert halves.step(torch.zeros(4, dtype=torch.long)).obs.shape == (4, 4, 84, 84)  # no step left in flight


def test_rollout_bench_runs_small_on_cpu(tmp_path):
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, os.path.join(REPO, "bench", "bench_atari_rollout.py"), "--envs", "4", "--steps", "4",
                           "--rollouts", "1", "--threads", "1", "--device", "cpu", "--json", str(out)],
                          capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    r = json.loads(out.read_text())
    for key in ("emulation_alone_sps", "trainer_rollout_sps", "overlapped_rollout_sps"):
        assert r[key] > 0, r
    assert 0 < r["trainer_rollout_emulation_share"] < 1
    assert "overlapped rollout (two halves)" in done.stdout


def test_the_trainer_with_overlap_rollout_trains_as_without_it(tmp_path):
    """Same seed, same games, same sampled actions (CPU draws concatenate), so the same run: the
    counters exactly, the losses up to float rounding (the forward runs on half batches)."""
    def start(flag):
        argv = [sys.executable, "-m", "gantry_remote", "train", "--game", "Breakout", "--backend", "ale",
                "--run-dir", str(tmp_path / flag), "--total-steps", "1024", "--num-envs", "4", "--num-steps", "64",
                "--minibatch-size", "64", "--update-epochs", "1", "--device", "cpu", "--no-export",
                "--thumbnail-seconds", "0", "--metrics-seconds", "0", "--seed", "3", flag]
        return subprocess.Popen(argv, cwd=os.path.join(REPO, "remote"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    runs = {flag: start(flag) for flag in ("--overlap-rollout", "--no-overlap-rollout")}
    logs = {flag: proc.communicate(timeout=300)[0] for flag, proc in runs.items()}
    for flag, proc in runs.items():
        assert proc.returncode == 0, logs[flag]
    assert "overlapped rollout: two env pools of 2 and 2 envs" in logs["--overlap-rollout"]
    assert "overlapped rollout" not in logs["--no-overlap-rollout"]
    rows = {flag: [json.loads(line) for line in (tmp_path / flag / "metrics.jsonl").read_text().splitlines()] for flag in runs}
    on, off = rows["--overlap-rollout"], rows["--no-overlap-rollout"]
    assert [(r["global_step"], r["episodes"], r["mean_return"]) for r in on] == [
        (r["global_step"], r["episodes"], r["mean_return"]) for r in off]
    assert on[-1]["episodes"] >= 1  # real games ended inside the comparison
    for a, b in zip(on, off):
        for key in ("policy", "value", "entropy"):
            assert a["losses"][key] == pytest.approx(b["losses"][key], rel=1e-4, abs=1e-6), (key, a, b)


def test_overlap_rollout_is_refused_where_it_cannot_run(tmp_path):
    argv = [sys.executable, "-m", "gantry_remote", "train", "--game", "breakout", "--backend", "builtin",
            "--run-dir", str(tmp_path / "x"), "--overlap-rollout"]
    done = subprocess.run(argv, cwd=os.path.join(REPO, "remote"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--overlap-rollout needs --backend ale" in done.stderr
