"""A SLURM run's budget: GPU-hours from the jobs' attempt lines (requeues, a lost attempt, queue
waits not counted) x GPUs per job, the warning, and the stop at the limit on the real single-node
SLURM (slurm_rig.py), which goes through `stop`'s path and leaves a checkpoint and a model."""
import json
import os

import pytest
from conftest import assert_journal_sound, fake_game, wait_until
from slurm_rig import slurm  # noqa: F401  (pytest fixture)
from test_slurm_run import game, slurm_plan, srig, wait_state  # noqa: F401  (srig: pytest fixture)

from gantry_remote import slurm_budget
from gantry_remote.ckpt_store import load_latest


def test_gpus_per_job_from_gres():
    assert slurm_budget.gpus_per_job({"gres": "gpu:1"}) == 1
    assert slurm_budget.gpus_per_job({"gres": "gpu:a100:4"}) == 4
    assert slurm_budget.gpus_per_job({"gres": "gpu:2,gpu:a100:1"}) == 3
    # Shards or no GPU at all: one GPU per job (an upper bound, so the budget never stops late).
    assert slurm_budget.gpus_per_job({"gres": "shard:1"}) == 1
    assert slurm_budget.gpus_per_job({}) == 1


def test_job_time_counts_each_attempt_once_and_never_the_queue_wait():
    g = {"state": "running"}
    for rec in [
        {"event": "start", "ts": 1000.0},
        {"event": "time_limit", "ts": 1600.0},     # 600 s, then ~2 min waiting to run again: not counted
        {"event": "start", "ts": 1750.0},
        {"event": "start", "ts": 1900.0},          # the node was lost without an end line: up to this start
        {"event": "crash", "ts": 1950.0},
        {"event": "start", "ts": 2000.0},
    ]:
        slurm_budget.count_attempt(g, rec)
    assert g["job_s"] == pytest.approx(600 + 150 + 50)
    st = {"games": {"a": g, "b": {"state": "completed", "job_s": 100.0, "job_open_ts": None}}}
    assert slurm_budget.job_seconds(st, now=2030.0) == pytest.approx(800 + 30 + 100)
    g["state"] = "completed"  # a final game's open attempt (none should remain) never grows
    assert slurm_budget.job_seconds(st, now=9999.0) == pytest.approx(900)
    # A line without a usable time closes the attempt without counting it.
    h = {"state": "running"}
    slurm_budget.count_attempt(h, {"event": "start", "ts": 10.0})
    slurm_budget.count_attempt(h, {"event": "completed", "ts": float("nan")})
    assert h.get("job_s", 0.0) == 0.0 and h["job_open_ts"] is None


def test_warn_only_journals_reached_and_keeps_the_run_going():
    st = {"state": "running", "games": {"a": {"game": "a", "state": "running", "episodes": 50, "target_episodes": 100,
                                             "job_s": 7200.0, "job_open_ts": None}}}
    plan = {"budget": {"limit": 10.0, "unit": "usd", "price_per_hour": 2.0, "on_limit": "warn"},
            "scheduler": {"gres": "gpu:a100:2"}}
    events = []
    slurm_budget.enforce("/nonexistent", st, plan, {"array_job_id": 1}, lambda t, **f: events.append(dict(f, type=t)), 60, now=0.0)
    # 2 h of job time x 2 GPUs = 4 GPU-hours x $2 = $8 spent, $16 projected at half the episodes.
    assert events == [{"type": "budget", "spent": 8.0, "projected": 16.0, "limit": 10.0, "unit": "usd", "status": "over_projection",
                       "on_limit": "warn", "active_hours": 4.0, "gpu_hours": 4.0}]
    st["games"]["a"]["job_s"] = 10800.0
    slurm_budget.enforce("/nonexistent", st, plan, {"array_job_id": 1}, lambda t, **f: events.append(dict(f, type=t)), 60, now=1.0)
    assert events[-1]["status"] == "reached" and st["games"]["a"]["state"] == "running" and "pending" not in st["games"]["a"]


def test_the_budget_stops_a_slurm_run_cleanly_with_a_checkpoint_and_a_model(srig, slurm):  # noqa: F811
    games = [fake_game("breakout", target=100000, fake_episodes_per_sec=5, fake_ckpt_every=5)]
    plan = slurm_plan(srig, games, gres="")
    with open(plan) as f:
        text = f.read()
    with open(plan, "w") as f:  # 0.0015 GPU-hours: about 5 s of one job
        f.write(text[:-1] + ', "budget": {"limit": 0.0015, "unit": "hours", "on_limit": "stop"}}')
    run_id = srig.ok("start", "--plan", plan)["run_id"]
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", 90, "the budget to stop the run")
    assert view["state"] == "stopped", view
    assert game(view, "breakout")["state"] == "stopped"
    events = srig.events(run_id)
    assert_journal_sound(events)
    budgets = [e for e in events if e["type"] == "budget"]
    reached = [e for e in budgets if e["status"] == "reached"]
    assert reached and reached[0]["spent"] >= 0.0015 and reached[0]["gpu_hours"] == reached[0]["spent"]
    assert budgets[0]["spent"] <= budgets[-1]["spent"]  # it only grows
    kinds = [e["type"] for e in events]
    assert kinds.index("game_stopped") > kinds.index("budget") and kinds[-1] == "run_completed"
    # Stopped as `stop` stops: SIGTERM → checkpoint, and the budget asked for a model too.
    run_dir = srig.run_path(run_id)
    game_dir = os.path.join(run_dir, "games", "breakout")
    assert load_latest(os.path.join(game_dir, "ckpt"), json.loads, log=print) is not None
    with open(os.path.join(game_dir, "train.log")) as f:
        assert "exported on stop" in f.read()
    assert any(e["type"] == "model_exported" for e in events)
    assert not os.path.exists(os.path.join(game_dir, "export-on-stop.json"))
    wait_until(lambda: slurm.job_ids() == [], 30, what="the array to leave the queue")


def test_a_plan_that_no_longer_validates_means_no_budget_not_a_failed_sync(tmp_path):
    (tmp_path / "plan.json").write_text('{"budget": {"limit": -1, "unit": "hours"}, "scheduler": {"gres": "gpu:2"}}')
    assert slurm_budget.read_plan(str(tmp_path)) == {"budget": None, "scheduler": {}}
    (tmp_path / "plan.json").write_text('{"budget": {"limit": 3, "unit": "hours"}, "scheduler": {"gres": "gpu:2"}}')
    assert slurm_budget.read_plan(str(tmp_path)) == {"budget": {"limit": 3, "unit": "hours", "on_limit": "stop"},
                                                     "scheduler": {"gres": "gpu:2"}}


def test_with_nobody_polling_the_jobs_own_syncs_stop_the_run_at_its_budget(srig, slurm):  # noqa: F811
    """The laptop is asleep: no status or sync from outside; each job syncs every GANTRY_BUDGET_SYNC_S."""
    srig.env["GANTRY_BUDGET_SYNC_S"] = "1"
    games = [fake_game("breakout", target=100000, fake_episodes_per_sec=5, fake_ckpt_every=5)]
    plan = slurm_plan(srig, games, gres="")
    with open(plan) as f:
        text = f.read()
    with open(plan, "w") as f:
        f.write(text[:-1] + ', "budget": {"limit": 0.0015, "unit": "hours", "on_limit": "stop"}}')
    run_id = srig.ok("start", "--plan", plan)["run_id"]
    wait_until(lambda: srig.state(run_id)["state"] != "running", 90, interval=0.5, what="the jobs to stop the run at its budget")
    events = srig.events(run_id)
    assert_journal_sound(events)
    assert srig.state(run_id)["state"] == "stopped"
    assert any(e["type"] == "budget" and e["status"] == "reached" for e in events)
    assert [e["game"] for e in events if e["type"] == "game_stopped"] == ["breakout"]
    assert not [e for e in events if e["type"] == "game_failed"]  # our own cancel, not "cancelled outside Gantry"
    wait_until(lambda: slurm.job_ids() == [], 30, what="the array to leave the queue")
