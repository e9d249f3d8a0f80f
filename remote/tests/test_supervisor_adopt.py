"""The supervisor dies mid-run; `start --run-id` adopts live trainers without duplicates."""
import os
import signal

from conftest import assert_journal_sound, fake_game, wait_until


def supervisor_pid(rig, run_id):
    with open(os.path.join(rig.run_path(run_id), "supervisor.lock")) as f:
        return int(f.read().strip())


def test_kill_9_supervisor_then_resume_adopts_trainers(rig):
    slow = {"fake_episodes_per_sec": 12}
    games = [fake_game("breakout", 50, **slow), fake_game("freeway", 45, **slow), fake_game("asterix", 15, **slow)]
    run_id = rig.start(rig.plan(games, slots=2))
    wait_until(lambda: len(rig.of_type(run_id, "game_started")) == 2, what="two trainers")
    wait_until(lambda: rig.of_type(run_id, "progress", game="freeway"), what="progress")
    trainers = {g: rig.trainer_pids(g) for g in ("breakout", "freeway")}
    assert all(len(p) == 1 for p in trainers.values()), trainers

    os.kill(supervisor_pid(rig, run_id), signal.SIGKILL)
    wait_until(lambda: not rig.status(run_id)["supervisor_alive"], what="supervisor dead")
    status = rig.status(run_id)
    assert status["state"] == "running"  # as recorded; the desktop offers resume
    seq_before = rig.events(run_id)[-1]["seq"]
    # Trainers do not depend on the supervisor: they keep writing metrics meanwhile.
    size = os.path.getsize(os.path.join(rig.run_path(run_id), "games", "breakout", "metrics.jsonl"))
    wait_until(lambda: os.path.getsize(os.path.join(rig.run_path(run_id), "games", "breakout", "metrics.jsonl")) > size,
               what="metrics growing without a supervisor")

    rc, out = rig.cli("start", "--run-id", run_id)
    assert rc == 0 and out["resumed"] is True, out
    started = wait_until(lambda: rig.of_type(run_id, "supervisor_started", pid=out["pid"]), what="new supervisor")[0]
    assert started["seq"] == seq_before + 2  # run_started(resumed) then supervisor_started, no gap
    assert sorted(started["adopted"]) == ["breakout", "freeway"]
    assert rig.of_type(run_id, "run_started")[-1]["resumed"] is True
    # The adopted processes are the very same ones, and there is exactly one per game.
    for game, pids in trainers.items():
        assert rig.trainer_pids(game) == pids

    rc, out2 = rig.cli("start", "--run-id", run_id)
    assert rc == 2 and out2["error"]["code"] == "run_running"

    status = rig.wait_finished(run_id, timeout=40)
    assert status["state"] == "completed"
    events = rig.events(run_id)
    assert_journal_sound(events)
    # Each game was started once in total (adopted, not restarted) and completed once.
    for game in ("breakout", "freeway", "asterix"):
        assert len([e for e in events if e["type"] == "game_started" and e["game"] == game]) == 1
        assert len([e for e in events if e["type"] == "game_completed" and e["game"] == game]) == 1


def test_trainer_that_finished_while_supervisor_was_down_counts_as_completed(rig):
    run_id = rig.start(rig.plan([fake_game("seaquest", 25, fake_episodes_per_sec=25), fake_game("breakout", 500, fake_episodes_per_sec=5)], slots=2))
    wait_until(lambda: rig.of_type(run_id, "progress", game="seaquest"), what="progress")
    os.kill(supervisor_pid(rig, run_id), signal.SIGKILL)
    # seaquest completes unobserved; breakout is killed unobserved (no exit code for the next supervisor).
    done = os.path.join(rig.run_path(run_id), "games", "seaquest", "completed.json")
    wait_until(lambda: os.path.exists(done), what="seaquest completed.json")
    [pid] = rig.trainer_pids("breakout")
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not rig.trainer_pids("breakout"), what="breakout gone")
    rig.ok("start", "--run-id", run_id)
    wait_until(lambda: rig.of_type(run_id, "game_completed", game="seaquest"), what="seaquest completed")
    restarting = wait_until(lambda: rig.of_type(run_id, "game_restarting", game="breakout"), what="breakout restart")[0]
    assert restarting["cause"] == "crash" and restarting["exit_code"] is None
    wait_until(lambda: rig.of_type(run_id, "game_started", game="breakout", attempt=2), what="breakout attempt 2")
    out = rig.ok("stop", "--run", run_id, "--wait", "--grace", "5")
    assert out["state"] == "stopped"
    assert rig.trainer_pids("breakout") == []
    assert_journal_sound(rig.events(run_id))


def test_stop_with_dead_supervisor_acts_directly(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", 500, fake_episodes_per_sec=5, fake_ignore_sigterm=True),
                                 fake_game("freeway", 500, fake_episodes_per_sec=5)], slots=2))
    wait_until(lambda: len(rig.of_type(run_id, "game_started")) == 2, what="trainers")
    os.kill(supervisor_pid(rig, run_id), signal.SIGKILL)
    wait_until(lambda: not rig.status(run_id)["supervisor_alive"], what="supervisor dead")
    out = rig.ok("stop", "--run", run_id, "--grace", "1")
    assert out["state"] == "stopped" and sorted(out["stopped"]) == ["breakout", "freeway"]
    assert rig.trainer_pids("breakout") == [] and rig.trainer_pids("freeway") == []  # SIGKILL after the grace
    freeway_log = open(os.path.join(rig.run_path(run_id), "games", "freeway", "train.log")).read()
    assert "SIGTERM, checkpointed" in freeway_log
    events = rig.events(run_id)
    assert_journal_sound(events)
    assert events[-1]["type"] == "run_completed" and events[-1]["state"] == "stopped"
    assert rig.status(run_id)["state"] == "stopped"
    # A stopped run can be resumed; games continue from their checkpoints.
    rig.ok("start", "--run-id", run_id)
    again = wait_until(lambda: rig.of_type(run_id, "game_started", game="freeway", attempt=2), what="resumed")[0]
    assert again["resumed_from_checkpoint"] is True
    rig.ok("stop", "--run", run_id, "--wait", "--grace", "1")
    assert_journal_sound(rig.events(run_id))
