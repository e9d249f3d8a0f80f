"""A run's budget: active-time arithmetic (pause/resume, restarts, supervisor restarts, a suspended
host), the early warning, and the stop at the limit, which keeps every checkpoint and exports."""
import json
import os

import pytest
from conftest import assert_journal_sound, fake_game

from gantry_remote import budget
from gantry_remote.ckpt_store import load_latest
from gantry_remote.paths import UserError
from gantry_remote.plan import validate_plan

USD = {"limit": 10.0, "unit": "usd", "price_per_hour": 2.0, "on_limit": "stop"}


def test_paused_time_does_not_count_but_restart_backoff_does():
    record = {}
    meter = budget.Meter(record, now=1000.0, trainers_ran_meanwhile=False)
    meter.tick(1060.0, active=True)    # a minute of training
    meter.tick(1090.0, active=True)    # a game waits out a restart backoff: the machine is still the run's
    meter.tick(1690.0, active=False)   # every game paused for 10 minutes
    meter.tick(1750.0, active=True)    # resumed: this minute counts again
    assert meter.active_s == pytest.approx(60 + 30 + 60)
    assert budget.spent(USD, meter.active_s) == pytest.approx(150 / 3600 * 2.0)
    assert budget.spent(dict(USD, unit="hours"), meter.active_s) == pytest.approx(150 / 3600)


def test_a_supervisor_restart_counts_the_gap_only_when_trainers_ran_on():
    record = {}
    budget.Meter(record, now=0.0, trainers_ran_meanwhile=False).tick(100.0, active=True)
    # The supervisor died at 100 and came back at 4000: its trainers trained on (adopted).
    adopted = budget.Meter(record, now=4000.0, trainers_ran_meanwhile=True)
    adopted.tick(4010.0, active=True)
    assert record["active_s"] == pytest.approx(4010.0)
    # A stopped run resumed a day later: nothing ran meanwhile.
    resumed = budget.Meter(record, now=90000.0, trainers_ran_meanwhile=False)
    resumed.tick(90005.0, active=True)
    assert record["active_s"] == pytest.approx(4015.0)


def test_a_suspended_supervisor_tick_is_capped():
    meter = budget.Meter({}, now=0.0, trainers_ran_meanwhile=False)
    meter.tick(10_000.0, active=True)
    assert meter.active_s == budget.MAX_TICK_S


def test_projection_and_status():
    assert budget.projected(1.0, episodes=10, target=1000) is None  # 1%: too early to tell
    assert budget.projected(1.0, episodes=250, target=1000) == pytest.approx(4.0)
    assert budget.status(USD, 4.0, 8.0) == "ok"
    assert budget.status(USD, 4.0, 12.0) == "over_projection"
    assert budget.status(USD, 10.0, 12.0) == "reached"


BASE = {"name": "p", "games": [{"game": "breakout", "backend": "builtin", "target_episodes": 5}]}


@pytest.mark.parametrize("bad, words", [
    ({"limit": 0, "unit": "hours"}, "limit must be a number > 0"),
    ({"limit": 5, "unit": "eur", "price_per_hour": 1}, "unit must be"),
    ({"limit": 5, "unit": "usd"}, "needs price_per_hour"),
    ({"limit": 5, "unit": "usd", "price_per_hour": -1}, "price_per_hour must be a number >= 0"),
    ({"limit": 5, "unit": "hours", "on_limit": "shutdown"}, "on_limit must be"),
    ({"limit": 5, "unit": "hours", "max": 3}, "unknown field(s) max"),
    ("50", "must be an object"),
])
def test_bad_budgets_are_refused(bad, words):
    with pytest.raises(UserError) as err:
        validate_plan(dict(BASE, budget=bad))
    assert words in err.value.message


def test_a_slurm_plan_carries_its_budget_for_sync_to_enforce():
    plan = validate_plan(dict(BASE, budget={"limit": 5, "unit": "hours"}, scheduler={"kind": "slurm"}))
    assert plan["budget"] == {"limit": 5, "unit": "hours", "on_limit": "stop"}


def budget_events(rig, run_id):
    return rig.of_type(run_id, "budget")


def test_stop_at_the_budget_checkpoints_and_exports_every_running_game(rig):
    games = [fake_game(n, 100000, fake_episodes_per_sec=10, fake_ckpt_every=5) for n in ("breakout", "freeway", "asterix")]
    limit_h = 3.0 / 3600  # three seconds of active time
    run_id = rig.start(rig.plan(games, slots=2, budget={"limit": limit_h, "unit": "hours", "on_limit": "stop"}))
    status = rig.wait_finished(run_id, timeout=40)
    assert status["state"] == "stopped"
    events = rig.events(run_id)
    assert_journal_sound(events)
    reached = [e for e in events if e["type"] == "budget" and e["status"] == "reached"]
    assert reached and reached[0]["spent"] >= limit_h and reached[0]["limit"] == limit_h
    stopped = {e["game"] for e in events if e["type"] == "game_stopped"}
    assert stopped == {"breakout", "freeway", "asterix"}  # the queued one too: it never started
    started = {e["game"] for e in events if e["type"] == "game_started"}
    assert len(started) == 2
    for name in started:
        ckpt_dir = os.path.join(rig.run_path(run_id), "games", name, "ckpt")
        manifest = json.load(open(os.path.join(ckpt_dir, "manifest.json")))["checkpoints"]
        loaded, entry = load_latest(ckpt_dir, json.loads, log=print)  # verifies the sha256
        assert entry == manifest[-1]
        last_progress = max(e["global_step"] for e in events if e["type"] == "progress" and e["game"] == name)
        assert entry["global_step"] >= last_progress  # the stop's own checkpoint, newer than any progress
        assert entry["file"] in {e["file"] for e in events if e["type"] == "checkpoint" and e["game"] == name}
        exported = [e for e in events if e["type"] == "model_exported" and e["game"] == name]
        assert exported and exported[-1]["global_step"] == entry["global_step"]
        assert not os.path.exists(os.path.join(rig.run_path(run_id), "games", name, "export-on-stop.json"))
    state = rig.state(run_id)
    assert state["budget"]["status"] == "reached" and state["budget"]["active_s"] >= 3.0


def test_warn_only_warns_early_with_the_numbers_and_trains_on(rig):
    # 1 usd per second of active time, limit 2 usd, the game takes ~5 s: the projection passes the
    # limit long before the spend does, and warn-only lets it finish.
    game = fake_game("seaquest", 200, fake_episodes_per_sec=40)
    plan_budget = {"limit": 2.0, "unit": "usd", "price_per_hour": 3600.0, "on_limit": "warn"}
    run_id = rig.start(rig.plan([game], budget=plan_budget))
    status = rig.wait_finished(run_id)
    assert status["state"] == "completed"
    statuses = [e["status"] for e in budget_events(rig, run_id)]
    first_warning = next(e for e in budget_events(rig, run_id) if e["status"] != "ok")
    assert first_warning["status"] == "over_projection" and first_warning["projected"] > 2.0 > first_warning["spent"]
    assert "reached" in statuses
    assert rig.of_type(run_id, "game_stopped") == []
    assert_journal_sound(rig.events(run_id))
