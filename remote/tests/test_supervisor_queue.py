"""Queue order, the slot limit, and changing the queue while a run is live."""
import os

from conftest import assert_journal_sound, fake_game, wait_until

SEED_GAMES = [  # (game, target_episodes, est_hours) as in the seed's 10-game plan
    ("MsPacman", 30000, 4.5), ("Asteroids", 25000, 3.7), ("Seaquest", 25000, 3.7), ("BeamRider", 20000, 3.0),
    ("SpaceInvaders", 15000, 2.2), ("Enduro", 15000, 2.2), ("Breakout", 10000, 0.4), ("Boxing", 10000, 1.5),
    ("Freeway", 3000, 0.4), ("Pong", 3000, 0.4),
]


def max_concurrency(events):
    running, peak = set(), 0
    for e in events:
        if e["type"] == "game_started":
            running.add(e["game"])
        elif e["type"] in ("game_completed", "game_restarting", "game_failed", "game_paused", "game_stopped"):
            running.discard(e["game"])
        peak = max(peak, len(running))
    return peak


def test_ten_games_three_slots_longest_first(rig):
    # Real targets are scaled down to ~0.5 s of fake training each; est_hours keeps the seed order.
    games = []
    for name, target, est in reversed(SEED_GAMES):  # listed shortest first: the queue must reorder
        g = fake_game(name, target=target // 1000, backend="ale")
        g["est_hours"] = est
        games.append(g)
    run_id = rig.start(rig.plan(games, slots=3))
    status = rig.wait_finished(run_id, timeout=60)
    assert status["state"] == "completed"
    assert all(g["state"] == "completed" and g["episodes"] == g["target_episodes"] for g in status["games"])
    events = rig.events(run_id)
    assert_journal_sound(events)
    started = [e["game"] for e in events if e["type"] == "game_started"]
    # Stable sort by est_hours descending; ties keep plan order (Enduro is listed before SpaceInvaders here).
    expected = [g["game"] for g in sorted(games, key=lambda g: -g["est_hours"])]
    assert started == expected
    assert max_concurrency(events) == 3
    assert len(rig.of_type(run_id, "game_completed")) == 10
    assert rig.of_type(run_id, "run_completed")[0]["state"] == "completed"


def test_pause_resume_and_set_slots_while_running(rig):
    slow = {"fake_episodes_per_sec": 15, "fake_ckpt_every": 5}
    games = [fake_game("breakout", 60, **slow), fake_game("freeway", 40, **slow), fake_game("asterix", 30, **slow)]
    run_id = rig.start(rig.plan(games, slots=1))
    wait_until(lambda: rig.of_type(run_id, "game_started", game="breakout"), what="first game")
    assert [g["state"] for g in rig.status(run_id)["games"]] == ["running", "queued", "queued"]

    rig.ok("set-slots", "--run", run_id, "2")
    wait_until(lambda: rig.of_type(run_id, "game_started", game="freeway"), what="second slot used")
    assert rig.of_type(run_id, "slots_changed")[0]["slots"] == 2
    assert rig.status(run_id)["slots"] == 2

    # Pausing a queued game keeps it out of free slots.
    rig.ok("pause", "--run", run_id, "--game", "asterix")
    wait_until(lambda: rig.of_type(run_id, "game_paused", game="asterix"), what="asterix paused")

    # Pausing a running game: SIGTERM, it checkpoints and exits, state paused.
    wait_until(lambda: rig.of_type(run_id, "checkpoint", game="breakout"), what="a breakout checkpoint")
    rig.ok("pause", "--run", run_id, "--game", "breakout")
    wait_until(lambda: rig.of_type(run_id, "game_paused", game="breakout"), what="breakout paused")
    assert rig.trainer_pids("breakout") == []
    status = {g["game"]: g for g in rig.status(run_id)["games"]}
    assert status["breakout"]["state"] == "paused" and status["asterix"]["state"] == "paused"
    paused_at = status["breakout"]["episodes"]
    assert paused_at > 0

    rig.ok("resume", "--run", run_id, "--game", "breakout")
    rig.ok("resume", "--run", run_id, "--game", "asterix")
    restarted = wait_until(lambda: rig.of_type(run_id, "game_started", game="breakout", attempt=2), what="breakout back")
    assert restarted[0]["resumed_from_checkpoint"] is True
    status = rig.wait_finished(run_id, timeout=60)
    assert status["state"] == "completed"
    events = rig.events(run_id)
    assert_journal_sound(events)
    assert max_concurrency(events) <= 2
    assert [e["game"] for e in events if e["type"] == "game_resumed"] == ["breakout", "asterix"]
    # The paused attempt's checkpoint was used: the restart did not begin at episode 0.
    log = open(os.path.join(rig.run_path(run_id), "games", "breakout", "train.log")).read()
    assert "resumed from ckpt-" in log
    assert rig.of_type(run_id, "game_restarting", game="breakout") == []  # a pause is not a failure


def test_control_requests_rejected_with_clear_errors(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", 5)]))
    rc, out = rig.cli("pause", "--run", run_id, "--game", "pong")
    assert rc == 2 and out["error"]["code"] == "unknown_game" and "breakout" in out["error"]["message"]
    rc, out = rig.cli("set-slots", "--run", run_id, "0")
    assert rc == 2 and "1 to 256" in out["error"]["message"]
    rig.wait_finished(run_id)
    rc, out = rig.cli("resume", "--run", run_id, "--game", "breakout")
    assert rc == 2 and out["error"]["code"] == "run_not_running"
