"""The supervisor dies mid-run; `start --run-id` adopts live trainers without duplicates."""
import json
import os
import signal

from conftest import assert_journal_sound, fake_game, wait_until


def supervisor_pid(rig, run_id):
    with open(os.path.join(rig.run_path(run_id), "supervisor.lock")) as f:
        return int(f.read().strip())


def last_metrics(rig, run_id, game):
    with open(os.path.join(rig.run_path(run_id), "games", game, "metrics.jsonl")) as f:
        complete = f.read().rsplit("\n", 1)[0]  # a line still being written has no newline yet
    return json.loads(complete.splitlines()[-1])


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
    # `status` reports what the trainers wrote since, not the dead supervisor's last tick.
    recorded = rig.state(run_id)["games"]["breakout"]["episodes"]
    wait_until(lambda: last_metrics(rig, run_id, "breakout")["episodes"] > recorded, what="episodes past the recorded ones")
    newest = last_metrics(rig, run_id, "breakout")["episodes"]
    breakout = next(g for g in rig.status(run_id)["games"] if g["game"] == "breakout")
    assert breakout["episodes"] >= newest > recorded and breakout["trainer_alive"] is True

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
    run_id = rig.start(rig.plan([fake_game("seaquest", 25, fake_episodes_per_sec=25),
                                 fake_game("breakout", 500, fake_episodes_per_sec=5)], slots=2))
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


def kill_supervisor_before_it_recorded_the_trainer(rig, run_id):
    """Kill -9 the supervisor, then rewind state.json and the journal to the moment between starting
    the trainer and recording its pid: the game is still queued and no game_started was written."""
    os.kill(supervisor_pid(rig, run_id), signal.SIGKILL)
    wait_until(lambda: not rig.status(run_id)["supervisor_alive"], what="supervisor dead")
    run_path = rig.run_path(run_id)
    events = rig.events(run_id)
    first_start = next(i for i, e in enumerate(events) if e["type"] == "game_started")
    with open(os.path.join(run_path, "events.jsonl"), "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in events[:first_start])
    state = rig.state(run_id)
    state["last_seq"] = events[first_start - 1]["seq"]
    state["games"]["breakout"].update(state="queued", pid=None, pid_start=None, attempt=0, started_ts=None)
    with open(os.path.join(run_path, "state.json"), "w") as f:
        json.dump(state, f)


def test_trainer_started_but_not_recorded_is_adopted_not_duplicated(rig):
    """The next supervisor finds the unrecorded trainer by its --run-dir and adopts it instead
    of starting a second one on the same directory."""
    run_id = rig.start(rig.plan([fake_game("breakout", 60, fake_episodes_per_sec=12)], slots=1))
    wait_until(lambda: rig.of_type(run_id, "progress", game="breakout"), what="progress")
    [pid] = rig.trainer_pids("breakout")
    kill_supervisor_before_it_recorded_the_trainer(rig, run_id)

    out = rig.ok("start", "--run-id", run_id)
    started = wait_until(lambda: rig.of_type(run_id, "supervisor_started", pid=out["pid"]), what="new supervisor")[0]
    assert started["adopted"] == ["breakout"]
    [game_started] = rig.of_type(run_id, "game_started", game="breakout")
    assert (game_started["pid"], game_started["attempt"], game_started["resumed_from_checkpoint"]) == (pid, 1, False)
    assert rig.trainer_pids("breakout") == [pid]  # the same process, and only it
    assert rig.wait_finished(run_id, timeout=40)["state"] == "completed"
    events = rig.events(run_id)
    assert_journal_sound(events)
    assert len([e for e in events if e["type"] == "game_completed"]) == 1


def test_stop_with_dead_supervisor_also_stops_an_unrecorded_trainer(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", 500, fake_episodes_per_sec=5)], slots=1))
    wait_until(lambda: rig.of_type(run_id, "progress", game="breakout"), what="progress")
    kill_supervisor_before_it_recorded_the_trainer(rig, run_id)
    out = rig.ok("stop", "--run", run_id, "--grace", "5")
    assert out["state"] == "stopped" and out["stopped"] == ["breakout"]
    assert rig.trainer_pids("breakout") == []
    assert_journal_sound(rig.events(run_id))
