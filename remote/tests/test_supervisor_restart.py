"""Crashed, killed and frozen trainers: restarts from checkpoints, backoff, the failure limit."""
import os
import signal

from conftest import assert_journal_sound, fake_game, wait_until


def test_kill_9_trainer_restarts_from_checkpoint(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", 80, fake_episodes_per_sec=20, fake_ckpt_every=10)]))
    wait_until(lambda: rig.of_type(run_id, "checkpoint", game="breakout"), what="first checkpoint")
    [pid] = rig.trainer_pids("breakout")
    os.kill(pid, signal.SIGKILL)
    restarting = wait_until(lambda: rig.of_type(run_id, "game_restarting", game="breakout"), what="restart")[0]
    assert restarting["cause"] == "signal" and restarting["exit_code"] == -9 and restarting["attempt"] == 2
    assert "SIGKILL" in restarting["detail"]
    second = wait_until(lambda: rig.of_type(run_id, "game_started", game="breakout", attempt=2), what="attempt 2")[0]
    assert second["resumed_from_checkpoint"] is True and second["pid"] != pid
    status = rig.wait_finished(run_id)
    assert status["state"] == "completed" and status["games"][0]["restarts"] == 1
    log = open(os.path.join(rig.run_path(run_id), "games", "breakout", "train.log")).read()
    resumed_line = [line for line in log.splitlines() if "resumed from ckpt-" in line]
    assert resumed_line and not resumed_line[0].endswith(" at 0 episodes")
    assert_journal_sound(rig.events(run_id))


def test_always_crashing_trainer_fails_after_max_restarts_with_backoff(rig):
    backoff = [0.4, 0.8]
    game = fake_game("freeway", 10, fake_crash_always=True, fake_crash_message="RuntimeError: boom")
    run_id = rig.start(rig.plan([game], restart={"max_restarts": 3, "backoff_s": backoff}))
    status = rig.wait_finished(run_id)
    assert status["state"] == "failed"
    [g] = status["games"]
    assert g["state"] == "failed" and g["restarts"] == 3 and g["attempt"] == 4
    events = rig.events(run_id)
    assert_journal_sound(events)
    restarts = [e for e in events if e["type"] == "game_restarting"]
    assert [e["delay_s"] for e in restarts] == [0.4, 0.8, 0.8]  # the last backoff value repeats
    assert all(e["cause"] == "crash" and e["exit_code"] == 1 and "boom" in e["detail"] for e in restarts)
    starts = [e for e in events if e["type"] == "game_started"]
    for r, nxt in zip(restarts, starts[1:]):
        assert nxt["ts"] - r["ts"] >= r["delay_s"] - 0.01, "restarted before its backoff elapsed"
    failed = [e for e in events if e["type"] == "game_failed"]
    assert len(failed) == 1 and failed[0]["cause"] == "crash"
    assert events[-1]["type"] == "run_completed" and events[-1]["state"] == "failed"


def test_oom_and_nan_are_classified_from_the_log(rig):
    games = [
        fake_game("breakout", 10, fake_crash_at=3,
                  fake_crash_message="torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"),
        fake_game("seaquest", 10, fake_crash_at=3, fake_crash_message="ValueError: loss is nan at update 12"),
    ]
    run_id = rig.start(rig.plan(games, slots=2))
    status = rig.wait_finished(run_id)
    assert status["state"] == "completed"  # each crashed once, then resumed and finished
    causes = {e["game"]: e["cause"] for e in rig.of_type(run_id, "game_restarting")}
    assert causes == {"breakout": "oom", "seaquest": "nan"}


def test_frozen_trainer_is_killed_and_restarted(rig):
    plan = rig.plan([fake_game("asterix", 40, fake_episodes_per_sec=20)], heartbeat_timeout_s=1.0)
    run_id = rig.start(plan)
    wait_until(lambda: rig.of_type(run_id, "progress", game="asterix"), what="first progress")
    [pid] = rig.trainer_pids("asterix")
    os.kill(pid, signal.SIGSTOP)  # a hung CUDA kernel or a deadlock looks like this from outside
    restarting = wait_until(lambda: rig.of_type(run_id, "game_restarting", game="asterix"), timeout=10, what="frozen")[0]
    assert restarting["cause"] == "frozen" and "no new metrics" in restarting["detail"]
    wait_until(lambda: pid not in rig.trainer_pids("asterix"), what="frozen process gone")
    status = rig.wait_finished(run_id)
    assert status["state"] == "completed" and status["games"][0]["restarts"] == 1


def test_hang_knob_is_detected_as_frozen(rig):
    plan = rig.plan([fake_game("breakout", 30, fake_hang_at=10)], heartbeat_timeout_s=1.0)
    run_id = rig.start(plan)
    status = rig.wait_finished(run_id)
    assert status["state"] == "completed"
    assert [e["cause"] for e in rig.of_type(run_id, "game_restarting")] == ["frozen"]
