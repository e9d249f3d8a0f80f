"""The GPU machine's Atari measurements, run small on CPU: bench/bench_atari_plan.py (the seed's plan
for a slice, detached, rotated, reported) and bench/bench_defaults.py's detached Atari mode (settings
compared at equal steps). Real ale-py games, real supervisor and trainers."""
import json
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("torch")
if os.environ.get("CI") != "true":
    pytest.importorskip("ale_py", reason="pip install 'ale-py>=0.12.1' gymnasium (or bash .ci/run)")

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(TESTS))
BENCH = os.path.join(REPO, "bench")
sys.path.insert(0, BENCH)

import bench_atari_plan  # noqa: E402

from gantry_remote.cpus import format_cpu_list  # noqa: E402


def _bench(*args, timeout=240, cwd=REPO):
    done = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(autouse=True)
def _no_run_left_behind(tmp_path):
    """A failed test must not leave its detached supervisor and trainers training (the keeper exits
    once the run has stopped)."""
    yield
    for state_path in tmp_path.glob("*/runs/*/state.json"):
        if json.loads(state_path.read_text())["state"] == "running":
            root, run_id = state_path.parents[2], state_path.parent.name
            subprocess.run([sys.executable, "-m", "gantry_remote", "stop", "--root", str(root), "--run", run_id, "--wait",
                            "--grace", "10"], cwd=os.path.join(REPO, "remote"), capture_output=True, timeout=120)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _run_dir(root):
    (run_id,) = os.listdir(os.path.join(root, "runs"))
    return os.path.join(root, "runs", run_id)


def test_plan_slice_smoke_rotates_the_queued_game_in_and_reports_both(tmp_path):
    root = str(tmp_path / "plan")
    out = _bench(os.path.join(BENCH, "bench_atari_plan.py"), "--smoke", "--root", root)
    report = json.loads((tmp_path / "plan" / "report.json").read_text())
    assert report["slice_state"] == "done" and report["slice_ended_because"] == "slice over"
    assert report["rotated_games"] == ["Breakout"] and report["rotated_in"] == ["Pong"]
    assert report["rotated_after_min"] is not None
    for name in ("Breakout", "Pong"):
        game = report["games"][name]
        assert game["measured"] and game["steps"] > 0 and game["sps"] > 0, game
        assert game["cores"] == format_cpu_list(os.sched_getaffinity(0)), game  # 1 slot: all of ours
        assert game["hours_to_10m_steps"] > 0
    # One slot: the plan's makespan is the two games one after the other.
    assert report["projected_hours_10m_steps"] == pytest.approx(
        report["games"]["Breakout"]["hours_to_10m_steps"] + report["games"]["Pong"]["hours_to_10m_steps"])
    assert 0 < report["cpu"]["busy"] <= 1 and report["cpu"]["samples"] >= 2
    if report["gpu"]["samples"] == 0:  # CI has no GPU: the supervisor said why
        assert "nvidia-smi" in report["gpu"]["why"]
    assert "| Breakout | " in out and "| Pong | " in out and "goal < 72 h" in out

    run_dir = _run_dir(root)
    events = [json.loads(line) for line in open(os.path.join(run_dir, "events.jsonl"))]
    kinds = [(e["type"], e.get("game")) for e in events]
    # Pong was queued behind Breakout and started only after the keeper paused Breakout.
    assert kinds.index(("game_paused", "Breakout")) < kinds.index(("game_started", "Pong"))
    state = json.load(open(os.path.join(run_dir, "state.json")))
    assert state["state"] == "stopped"  # the keeper stopped it at the end of the slice
    for name, game in state["games"].items():
        assert not game.get("pid") or not _alive(game["pid"]), name  # no trainer left behind
    train_log = open(os.path.join(run_dir, "games", "Pong", "train.log")).read()
    assert "ale backend" in train_log and "sticky actions 0.25" in train_log  # the plan ran as `start` resolved it


def test_projection_places_games_on_slots_in_queue_order():
    order = ["a", "b", "c", "d"]
    # 2 slots: a (4 h) and b (3 h) start; c (2 h) takes b's slot at 3 h, d (2 h) takes a's at 4 h.
    assert bench_atari_plan.schedule_hours(order, {"a": 4, "b": 3, "c": 2, "d": 2}, 2) == 6
    assert bench_atari_plan.schedule_hours(order, {"a": 4, "b": None, "c": 2, "d": 2}, 2) is None  # unmeasured game
    # No game ended: ale-py's 27,000-step cap bounds it. 2,700 steps/s end at least 0.1 games/s, 360 an hour.
    assert bench_atari_plan.hours_at_most(720, 2700.0) == pytest.approx(2.0)
    assert bench_atari_plan.rotation({"name": "p", "slots": 6, "games": [
        {"game": g, "target_episodes": 10, "est_hours": h, "backend": "builtin", "env": "breakout"}
        for g, h in zip("ABCDEFGHIJ", (9, 8, 7, 6, 5, 4, 3, 2, 1, 0.5))]}) == ["C", "D", "E", "F"]


def test_the_seed_plans_slice_every_game_steps_in_ale_and_four_rotate_in():
    """What the GPU machine's one-command slice will start: the seed's plan as it is, all ten ROMs."""
    import torch

    from gantry_remote.envs.atari import AleAtari
    from gantry_remote.plan import queue_order, validate_plan

    plan = bench_atari_plan.build_plan(bench_atari_plan.SEED_PLAN, None, None, {}, 5.0)
    assert len(plan["games"]) == 10 and plan["slots"] == 6
    assert all(g["trainer_args"]["num_envs"] == 256 for g in plan["games"])
    order = queue_order(validate_plan(plan))
    assert bench_atari_plan.rotation(plan) == ["Seaquest", "BeamRider", "SpaceInvaders", "Enduro"]
    assert order[6:] == ["Boxing", "Breakout", "Freeway", "Pong"]  # the queued games the rotation lets in
    for game in order:
        env = AleAtari(game, 1, num_threads=1)
        env.reset()
        assert env.step(torch.zeros(1, dtype=torch.long)).obs.shape == (1, 4, 84, 84), game


def test_gpu_utilisation_reads_the_supervisors_gpu_events():
    events = [{"type": "gpu", "ts": 10.0 + i, "gpus": [{"name": "H200", "util": u, "mem_used": 100 * u}]}
              for i, u in enumerate((10, 50, 20))]
    events.append({"type": "gpu", "ts": 99.0, "gpus": [{"name": "H200", "util": 100, "mem_used": 1}]})  # after the slice
    gpu = bench_atari_plan.gpu_utilisation(events, 0.0, 50.0)
    assert gpu["samples"] == 3 and gpu["util_mean"] == pytest.approx(80 / 3) and gpu["util_max"] == 50
    assert gpu["util_median"] == 20 and gpu["mem_used_max_mib"] == 5000


def test_defaults_bench_compares_atari_settings_detached_then_reported(tmp_path):
    root = str(tmp_path / "envs")
    script = os.path.join(BENCH, "bench_defaults.py")
    began = time.monotonic()
    out = _bench(script, "--atari-backend", "ale", "--games", "Breakout", "--seeds", "1", "--steps", "256",
                 "--device", "cpu", "--candidate", "envs4=num_envs=4,num_steps=16,minibatch_size=32,sticky_actions=0",
                 "--candidate", "envs8=num_envs=8,num_steps=8,minibatch_size=32,sticky_actions=0,overlap_rollout=true",
                 "--detach", "--root", "envs", cwd=str(tmp_path))  # relative, as on the GPU machine
    assert time.monotonic() - began < 60 and "--report" in out  # returned while the trainers train on
    early = _bench(script, "--report", root, "--no-append")  # read while the trainers start (seconds)
    assert ": running." in early and "still running" in early
    table = _bench(script, "--report", root, "--wait", "--no-append")
    assert "completed." in table and "| return at 64 | return at 128 | return at 192 | return at 256 |" in table
    assert "| return at 100 | return at 200 |" in _bench(script, "--report", root, "--no-append", "--marks", "100,2e2")
    for label, envs in (("envs4", 4), ("envs8", 8)):
        row = next(line for line in table.splitlines() if line.startswith("| %s (" % label))
        assert "| Breakout | 1 | 256 |" in row and "| 430.0 |" in row, row  # all 256 steps, CleanRL's reference
        log = open(os.path.join(_run_dir(root), "games", "Breakout-%s-s1" % label, "train.log")).read()
        assert "%d envs x" % envs in log and "sticky actions 0, " in log
        assert ("overlapped rollout" in log) == (label == "envs8")  # a flag set to true in a candidate


def test_a_slice_whose_run_ends_first_is_reported_as_it_ended(tmp_path):
    root = str(tmp_path / "short")
    tiny = ["total_steps=96", "num_envs=4", "num_steps=8", "minibatch_size=32", "update_epochs=1", "device=cpu"]
    script = os.path.join(BENCH, "bench_atari_plan.py")
    # A relative root, as the GPU machine's commands give it (bench/results/...), from another folder.
    _bench(script, "--root", "short", "--games", "Breakout", "--minutes", "5", "--sample-s", "1",
           *[a for t in tiny for a in ("--trainer-arg", t)], cwd=str(tmp_path))
    _bench(script, "--report", "short", "--wait", "200", cwd=str(tmp_path))
    report = json.loads((tmp_path / "short" / "report.json").read_text())
    assert report["slice_state"] == "done" and report["slice_ended_because"] == "the run ended by itself"
    assert report["games"]["Breakout"]["steps"] == 96 and report["rotated_games"] == []  # 1 game on 6 slots
    state = json.load(open(os.path.join(_run_dir(root), "state.json")))
    assert state["state"] == "completed"  # finished by the trainer, not stopped by the keeper
