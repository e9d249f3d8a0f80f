"""The evaluation episode recorded at each export: written by the real trainer beside its model, listed
with its sha256, bounded, atomic, and true to the game (replaying its actions reproduces its frames)."""
import gzip
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REMOTE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REMOTE))

from gantry_remote import atomic, eval_recording  # noqa: E402
from gantry_remote.backends import make_env  # noqa: E402
from gantry_remote.digest import sha256_file  # noqa: E402
from gantry_remote.export import export_policy  # noqa: E402
from gantry_remote.models_index import list_models  # noqa: E402
from gantry_remote.nets import make_agent  # noqa: E402

pytest.importorskip("onnx")


def decode(path):
    """An independent reader of the format in PROTOCOL.md ("Episode recording")."""
    raw = gzip.decompress(Path(path).read_bytes())
    assert raw[:8] == b"GANTRYEP"
    (length,) = struct.unpack("<I", raw[8:12])
    header = json.loads(raw[12:12 + length])
    body = raw[12 + length:]
    cells = header["channels"] * header["height"] * header["width"]
    frame_bytes = (cells + 7) // 8 if header["kind"] == "grid" else cells
    assert len(body) == header["steps"] * frame_bytes
    frames = [body[i * frame_bytes:(i + 1) * frame_bytes] for i in range(header["steps"])]
    if header["kind"] == "grid":
        frames = [np.unpackbits(np.frombuffer(f, np.uint8))[:cells].reshape(header["channels"], header["height"], header["width"])
                  for f in frames]
    else:
        frames = [np.frombuffer(f, np.uint8).reshape(header["height"], header["width"]) for f in frames]
    return header, frames


def test_the_trainer_records_a_builtin_episode_beside_each_exported_model(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REMOTE), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "gantry_remote", "train", "--run-dir", str(tmp_path), "--game", "breakout", "--backend",
           "builtin", "--device", "cpu", "--num-envs", "8", "--num-steps", "32", "--minibatch-size", "128",
           "--update-epochs", "1", "--metrics-seconds", "0", "--seed", "5", "--total-steps", "512"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

    models_dir = tmp_path / "models"
    (entry,) = json.loads((models_dir / "manifest.json").read_text())["models"]
    assert entry["episode"] == entry["file"] + ".episode.gz"
    episode_path = models_dir / entry["episode"]
    assert sha256_file(str(episode_path)) == entry["episode_sha256"]
    assert not [n for n in os.listdir(models_dir) if n.startswith(".tmp-")]  # written atomically, nothing left over

    header, frames = decode(episode_path)
    assert header["kind"] == "grid" and header["channel_names"] == ["paddle", "ball", "trail", "brick"]
    assert (header["channels"], header["height"], header["width"]) == (4, 10, 10)
    assert header["action_names"] == ["noop", "left", "right"] and header["global_step"] == 512
    assert 1 <= header["steps"] <= eval_recording.MAX_STEPS
    assert len(header["actions"]) == len(header["rewards"]) == header["steps"]
    assert header["score"] == pytest.approx(sum(header["rewards"]))
    assert header["ended"] in ("game_over", "max_steps")
    assert episode_path.stat().st_size < 64 * 1024  # a built-in episode is a few KB

    # The recording is the game itself: replaying its actions in the same env reproduces every frame and reward.
    assert header["seed"] == 5 + eval_recording.EVAL_SEED_OFFSET
    replay = make_env("builtin", "breakout", 1, "cpu", header["seed"])
    obs = replay.reset()
    for i, action in enumerate(header["actions"]):
        assert np.array_equal(obs[0].numpy().astype(bool), frames[i].astype(bool)), "frame %d differs" % i
        result = replay.step(torch.tensor([action]))
        assert float(result.reward[0]) == header["rewards"][i]
        obs = result.obs


def test_models_lists_the_recording_with_its_sha256(tmp_path):
    game_dir = tmp_path / "runs" / "r1" / "games" / "breakout"
    agent = make_agent((4, 10, 10), 3)
    env = make_env("builtin", "breakout", 1, "cpu", 0)
    episode = eval_recording.record_episode(agent, env, "breakout", "builtin", env.action_names, 64, seed=9, max_steps=50)
    entry = export_policy(str(game_dir / "models"), agent, env.reset()[0], "breakout", "builtin", env.action_names, 64, 2, None,
                          episode=episode)
    (rec,) = [r for r in list_models(str(tmp_path), "r1") if r["kind"] == "recording"]
    assert rec["file"] == "breakout-64.onnx.episode.gz" and rec["path"] == "runs/r1/games/breakout/models/breakout-64.onnx.episode.gz"
    assert rec["sha256"] == entry["episode_sha256"] == sha256_file(str(game_dir / "models" / rec["file"]))
    assert rec["size"] == len(episode) and rec["step"] == 64

    # Old models leave with their recordings (the trainer keeps the newest three).
    for step in (128, 192, 256):
        export_policy(str(game_dir / "models"), agent, env.reset()[0], "breakout", "builtin", env.action_names, step, 2, None,
                      episode=episode)
    assert not (game_dir / "models" / "breakout-64.onnx.episode.gz").exists()
    assert sorted(r["file"] for r in list_models(str(tmp_path), "r1") if r["kind"] == "recording") == [
        "breakout-128.onnx.episode.gz", "breakout-192.onnx.episode.gz", "breakout-256.onnx.episode.gz"]


def test_a_failed_recording_write_leaves_the_previous_manifest_and_no_partial_file(tmp_path, monkeypatch):
    agent = make_agent((4, 10, 10), 3)
    env = make_env("builtin", "breakout", 1, "cpu", 0)
    episode = eval_recording.record_episode(agent, env, "breakout", "builtin", env.action_names, 64, seed=9, max_steps=20)
    models_dir = tmp_path / "models"
    export_policy(str(models_dir), agent, env.reset()[0], "breakout", "builtin", env.action_names, 64, 2, None, episode=episode)
    before = (models_dir / "manifest.json").read_bytes()

    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith(".episode.gz"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(OSError):
        export_policy(str(models_dir), agent, env.reset()[0], "breakout", "builtin", env.action_names, 128, 3, None, episode=episode)
    assert (models_dir / "manifest.json").read_bytes() == before  # the entry that would name it was never written
    assert sorted(n for n in os.listdir(models_dir) if "episode" in n or n.startswith(".tmp-")) == ["breakout-64.onnx.episode.gz"]


def _header(data):
    raw = gzip.decompress(data)
    return json.loads(raw[12:12 + struct.unpack("<I", raw[8:12])[0]])


def test_recording_is_bounded_in_steps_and_time():
    # Freeway has no game over before its 2500-step time limit, so only the recorder's cap ends it.
    env = make_env("builtin", "freeway", 1, "cpu", 0)
    agent = make_agent(env.obs_shape, env.num_actions)
    data = eval_recording.record_episode(agent, env, "freeway", "builtin", env.action_names, 1, seed=1, max_steps=10 ** 9)
    header = _header(data)
    assert header["steps"] == eval_recording.MAX_STEPS and header["ended"] == "max_steps"
    assert len(data) < 64 * 1024
    timed = _header(eval_recording.record_episode(agent, env, "freeway", "builtin", env.action_names, 1, seed=1, max_seconds=0.0))
    assert timed["ended"] == "max_seconds" and timed["steps"] == 0


def test_a_failing_recorder_costs_only_the_replay():
    lines = []

    def broken_env(_seed):
        raise RuntimeError("no emulator here")

    assert eval_recording.record_for_export(make_agent((4, 10, 10), 3), broken_env, "breakout", "builtin", ["noop"], 1, 0,
                                            lines.append) is None
    assert lines == ["no episode recording for this export: no emulator here"]


def test_the_trainer_records_real_atari_breakout_in_grey_with_the_real_score(tmp_path):
    if os.environ.get("CI") != "true":
        pytest.importorskip("ale_py", reason="pip install 'ale-py>=0.12.1' gymnasium (or bash .ci/run)")
    env = dict(os.environ, PYTHONPATH=str(REMOTE), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "gantry_remote", "train", "--run-dir", str(tmp_path), "--game", "Breakout", "--backend", "ale",
           "--device", "cpu", "--num-envs", "2", "--num-steps", "16", "--minibatch-size", "32", "--update-epochs", "1",
           "--metrics-seconds", "0", "--seed", "4", "--total-steps", "64"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr

    (entry,) = json.loads((tmp_path / "models" / "manifest.json").read_text())["models"]
    path = tmp_path / "models" / entry["episode"]
    assert entry["episode"] == "breakout-64.onnx.episode.gz" and sha256_file(str(path)) == entry["episode_sha256"]
    assert path.stat().st_size < 1024 * 1024  # grey frames compress to far less than their 7 KB a step
    header, frames = decode(path)
    assert header["kind"] == "grey" and (header["channels"], header["height"], header["width"]) == (1, 84, 84)
    assert header["action_names"] == ["NOOP", "FIRE", "RIGHT", "LEFT"] and header["backend"] == "ale"
    assert 1 <= header["steps"] <= eval_recording.MAX_STEPS and len(frames) == header["steps"]
    assert len({f.tobytes() for f in frames}) > 10  # the picture moves
    assert header["score"] == pytest.approx(sum(header["rewards"]))
    assert all(r in (0, 1, 4, 7) for r in header["rewards"])  # Breakout's real brick scores, not clipped rewards
    assert header["ended"] in ("game_over", "max_steps", "max_seconds")
