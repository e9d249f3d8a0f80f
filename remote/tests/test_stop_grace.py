"""`stop` without --grace keeps the grace the supervisor runs with (GANTRY_STOP_GRACE_S, 30 s by default)."""
import time

from conftest import fake_game, wait_until


def test_stop_without_grace_uses_the_supervisors_own(rig):
    # The rig's supervisor runs with GANTRY_STOP_GRACE_S=5; this trainer ignores SIGTERM, so only the grace ends it.
    run_id = rig.start(rig.plan([fake_game("breakout", 500, fake_episodes_per_sec=5, fake_ignore_sigterm=True)], slots=1))
    wait_until(lambda: rig.of_type(run_id, "game_started"), what="trainer")
    started = time.monotonic()
    out = rig.ok("stop", "--run", run_id, "--wait", timeout=90)
    took = time.monotonic() - started
    assert out["state"] == "stopped" and rig.trainer_pids("breakout") == []
    assert 5 <= took < 25, took  # the supervisor's 5 s, not the CLI's own 30 s
    with open(rig.run_path(run_id) + "/supervisor.log") as f:
        assert "stop requested (grace 5 s)" in f.read()


def test_an_explicit_grace_still_wins(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", 500, fake_episodes_per_sec=5, fake_ignore_sigterm=True)], slots=1))
    wait_until(lambda: rig.of_type(run_id, "game_started"), what="trainer")
    started = time.monotonic()
    rig.ok("stop", "--run", run_id, "--wait", "--grace", "1", timeout=60)
    assert time.monotonic() - started < 5 + 1  # well under the supervisor's 5 s
    with open(rig.run_path(run_id) + "/supervisor.log") as f:
        assert "stop requested (grace 1 s)" in f.read()
