"""The PPO trainer as the supervisor runs it: a real `python -m gantry_remote train` process."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REMOTE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REMOTE))

from gantry_remote.digest import sha256_file  # noqa: E402

SMALL = ["--game", "breakout", "--backend", "builtin", "--device", "cpu", "--num-envs", "8", "--num-steps", "32",
         "--minibatch-size", "128", "--update-epochs", "2", "--metrics-seconds", "0", "--seed", "3"]


def trainer(run_dir, *extra):
    env = dict(os.environ, PYTHONPATH=str(REMOTE), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "gantry_remote", "train", "--run-dir", str(run_dir), *SMALL, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    proc.run_dir = Path(run_dir)
    return proc


def finish(proc, idle_s=60):
    """The trainer's exit code and output. The wait follows its progress (a loaded CI machine is slow,
    not broken): it fails only after idle_s seconds without a new metrics line."""
    progress = proc.run_dir / "metrics.jsonl"
    seen, since = None, time.time()
    while True:
        try:
            out, _ = proc.communicate(timeout=2)  # retrying after a timeout loses no output
            return proc.returncode, out
        except subprocess.TimeoutExpired:
            size = progress.stat().st_size if progress.exists() else None
            if size != seen:
                seen, since = size, time.time()
            elif time.time() - since > idle_s:
                proc.kill()  # never leave a trainer running after a failed test
                proc.communicate()
                raise


def metrics(run_dir):
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def final_weights(run_dir):
    manifest = json.loads((Path(run_dir) / "ckpt" / "manifest.json").read_text())["checkpoints"]
    newest = manifest[-1]
    assert sha256_file(str(Path(run_dir) / "ckpt" / newest["file"])) == newest["sha256"]
    return newest, torch.load(str(Path(run_dir) / "ckpt" / newest["file"]), weights_only=True)


def test_short_run_reaches_episode_target_and_writes_every_file(tmp_path):
    rc, out = finish(trainer(tmp_path, "--target-episodes", "40"))
    assert rc == 0, out
    done = json.loads((tmp_path / "completed.json").read_text())
    assert done["episodes"] >= 40 and done["global_step"] > 0

    rows = metrics(tmp_path)
    last = rows[-1]
    for key in ("ts", "global_step", "episodes", "mean_return", "max_return", "sps", "episodes_per_hour", "lr", "losses", "gpu_mem_mb"):
        assert key in last
    assert set(last["losses"]) == {"policy", "value", "entropy", "approx_kl", "clipfrac"}
    assert last["episodes"] == done["episodes"] and last["global_step"] == done["global_step"]
    assert last["sps"] > 0 and last["mean_return"] is not None
    assert [r["global_step"] for r in rows] == sorted(r["global_step"] for r in rows)

    entry, state = final_weights(tmp_path)
    assert entry["global_step"] == done["global_step"] and entry["episodes"] == done["episodes"]
    assert state["global_step"] == done["global_step"]

    models = json.loads((tmp_path / "models" / "manifest.json").read_text())["models"]
    model = models[-1]
    assert model["file"] == "breakout-%d.onnx" % done["global_step"]
    assert sha256_file(str(tmp_path / "models" / model["file"])) == model["sha256"]
    assert sha256_file(str(tmp_path / "models" / model["probe"])) == model["probe_sha256"]
    probe = json.loads((tmp_path / "models" / model["probe"]).read_text())
    assert probe["input_shape"] == [1, 4, 10, 10] and len(probe["output"]) == 3
    assert "done (target_episodes)" in out


def test_sigterm_then_resume_continues_the_same_curve(tmp_path):
    """Interrupted + resumed must equal uninterrupted: same steps, episodes and identical weights."""
    budget = ["--total-steps", str(256 * 40)]
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    rc, out = finish(trainer(straight, *budget))
    assert rc == 0, out

    proc = trainer(interrupted, *budget)
    deadline = time.time() + 60
    while not (interrupted / "metrics.jsonl").exists() or len(metrics(interrupted)) < 3:
        assert proc.poll() is None and time.time() < deadline, "trainer ended before it could be interrupted"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    rc, out = finish(proc)
    assert rc == 0, out
    assert "SIGTERM" in out and not (interrupted / "completed.json").exists()
    stopped_entry, _ = final_weights(interrupted)  # sha256 verified inside
    assert 0 < stopped_entry["global_step"] < 256 * 40

    rc, out = finish(trainer(interrupted, *budget, "--resume"))
    assert rc == 0, out
    assert "resumed from ckpt-%d.pt" % stopped_entry["global_step"] in out
    resumed_rows = [r for r in metrics(interrupted) if r["ts"] > stopped_entry["ts"]]
    assert resumed_rows[0]["global_step"] > stopped_entry["global_step"]
    assert resumed_rows[0]["episodes"] >= stopped_entry["episodes"]

    a_entry, a_state = final_weights(straight)
    b_entry, b_state = final_weights(interrupted)
    assert (a_entry["global_step"], a_entry["episodes"]) == (b_entry["global_step"], b_entry["episodes"])
    assert a_state["recent_returns"] == b_state["recent_returns"]
    for name, tensor in a_state["agent"].items():
        assert torch.equal(tensor, b_state["agent"][name]), name


def test_unknown_flag_is_a_clear_error(tmp_path):
    rc, out = finish(trainer(tmp_path, "--num-env", "4"))
    assert rc == 2 and "unrecognized arguments: --num-env" in out


def test_unknown_builtin_game_names_the_choices(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REMOTE))
    proc = subprocess.run([sys.executable, "-m", "gantry_remote", "train", "--game", "Pacman", "--backend", "builtin",
                           "--run-dir", str(tmp_path), "--device", "cpu"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert "not a built-in game" in proc.stdout and "breakout" in proc.stdout


def test_learning_rate_and_clip_default_per_backend_and_explicit_flags_win():
    from gantry_remote.ppo import parse_args

    builtin = parse_args(["--run-dir", "d"])
    assert (builtin.learning_rate, builtin.clip_coef, builtin.num_envs, builtin.minibatch_size) == (5e-4, 0.2, 256, 1024)
    assert builtin.update_epochs == 8
    for backend in ("ale", "envpool"):
        atari = parse_args(["--run-dir", "d", "--backend", backend, "--game", "Pong"])
        assert (atari.learning_rate, atari.clip_coef, atari.update_epochs, atari.minibatch_size) == (2.5e-4, 0.1, 4, 256)
    assert parse_args(["--run-dir", "d", "--update-epochs", "3"]).update_epochs == 3
    assert parse_args(["--run-dir", "d", "--backend", "ale", "--minibatch-size", "1024"]).minibatch_size == 1024
    chosen = parse_args(["--run-dir", "d", "--learning-rate", "1e-3", "--clip-coef", "0.3", "--sticky-actions", "0"])
    assert (chosen.learning_rate, chosen.clip_coef, chosen.sticky_actions) == (1e-3, 0.3, 0.0)


@pytest.mark.parametrize("flags, message", [
    (["--sticky-actions", "1.5"], "--sticky-actions is a probability between 0 and 1"),
    (["--learning-rate", "0"], "--learning-rate and --clip-coef must be positive"),
])
def test_out_of_range_hyperparameters_are_clear_errors(tmp_path, flags, message):
    rc, out = finish(trainer(tmp_path, *flags))
    assert rc == 2 and message in out


def test_sticky_actions_flag_reaches_the_builtin_game(tmp_path):
    """--sticky-actions 1 repeats the first action (NOOP) forever, so the paddle never leaves column 4
    whatever is chosen; 0 always takes the chosen action. The trainer's log names the value in use."""
    from gantry_remote.backends import make_env

    always = make_env("builtin", "breakout", 4, "cpu", 0, sticky_actions=1.0)
    never = make_env("builtin", "breakout", 4, "cpu", 0, sticky_actions=0.0)
    right = torch.full((4,), 2)  # action index 2 = RIGHT
    for _ in range(3):
        always.step(right)
        never.step(right)
    assert always.game_state["paddle"].tolist() == [4, 4, 4, 4]
    assert never.game_state["paddle"].tolist() == [7, 7, 7, 7]
    assert make_env("builtin", "breakout", 4, "cpu", 0).sticky_p == 0.1  # MinAtar's default when unset

    rc, out = finish(trainer(tmp_path, "--sticky-actions", "0", "--target-episodes", "1"))
    assert rc == 0 and "sticky actions 0," in out


def test_first_metrics_line_comes_right_after_the_first_update_and_names_the_start_up(tmp_path):
    # A long metrics interval: only the first update and the closing line may write one.
    rc, out = finish(trainer(tmp_path, "--total-steps", str(8 * 32 * 4), "--metrics-seconds", "3600"))
    assert rc == 0, out
    rows = metrics(tmp_path)
    assert [r["global_step"] for r in rows] == [8 * 32, 8 * 32 * 4]
    line = next(line for line in out.splitlines() if "first update" in line)
    seconds = float(line.split("first update ")[1].split(" s from process start")[0])
    assert 0 < seconds < 60
    # Every phase, in order, each with its seconds; together they are the whole start-up.
    listed = line.split(" s from process start (")[1].rstrip(")").split(", ")
    phases = [part.rsplit(" ", 2)[0] for part in listed]
    assert phases == ["python and imports", "device", "envs", "agent and checkpoint", "buffers and first thumbnail",
                      "first rollout step", "rest of the first rollout", "GAE and first update epoch",
                      "other update epochs"], line
    durations = [float(part.rsplit(" ", 2)[1]) for part in listed]
    assert all(d >= 0 for d in durations) and abs(sum(durations) - seconds) <= 0.05 * len(durations), line
