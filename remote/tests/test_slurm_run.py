"""A plan run as a SLURM job array on the real single-node cluster (slurm_rig.py), driven through
the same JSON CLI the desktop uses, with the fake trainer as the game (a real process writing the
real files). Requeue tests wait out SLURM's ~2.5 min BeginTime delay for requeued jobs, so there
are few of them."""
import os
import re
import time
from typing import Any, Dict, List

import pytest
from conftest import Rig, assert_journal_sound, fake_game, pids_with_arg, wait_until
from slurm_rig import slurm  # noqa: F401  (pytest fixture)

# A requeued job waits ~2.5 min (BeginTime) before SLURM starts it again.
REQUEUE_WAIT_S = 240


@pytest.fixture
def srig(slurm, tmp_path):  # noqa: F811
    # Under the rig's folder, not pytest's 0700 tmp: jobs and sync must reach it like a shared FS.
    root = os.path.join(slurm.dir, "gantry-%s" % tmp_path.name)
    os.makedirs(root)
    r = Rig(root)
    r.env["SLURM_CONF"] = slurm.conf
    yield r
    slurm.run("scancel", "--user=%d" % os.geteuid(), check=False)
    r.kill_everything()


def slurm_plan(r: Rig, games: List[Dict[str, Any]], slots: int = 3, **scheduler: Any) -> str:
    block: Dict[str, Any] = {"kind": "slurm", "partition": "debug", "cpus_per_task": 1}
    block.update(scheduler)
    return r.plan(games, scheduler=block, slots=slots)


def sync(r: Rig, run_id: str) -> Dict[str, Any]:
    return r.ok("sync", "--run", run_id)


def wait_state(r: Rig, run_id: str, predicate, timeout: float, what: str) -> Dict[str, Any]:
    def check():
        view = r.status(run_id)  # status syncs first, as the desktop's poll does
        return view if predicate(view) else None
    return wait_until(check, timeout, interval=1.0, what=what)


def game(view: Dict[str, Any], name: str) -> Dict[str, Any]:
    return next(g for g in view["games"] if g["game"] == name)


def test_three_games_run_to_completion_as_array_tasks(srig, slurm):  # noqa: F811
    games = [fake_game(n, target=40, fake_episodes_per_sec=40) for n in ("breakout", "freeway", "asterix")]
    out = srig.ok("start", "--plan", slurm_plan(srig, games))
    assert out["scheduler"] == "slurm" and isinstance(out["array_job_id"], int)
    run_id = out["run_id"]
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", 90, "the run to finish")
    assert view["state"] == "completed", view
    for g in view["games"]:
        assert g["state"] == "completed" and g["episodes"] >= 40, g
        assert g["slurm"]["job_id"].startswith("%d_" % out["array_job_id"]), g["slurm"]
        assert g["slurm"]["state"] == "COMPLETED", g["slurm"]  # not the last live state squeue showed
    events = srig.events(run_id)
    assert_journal_sound(events)
    assert sorted(e["game"] for e in events if e["type"] == "game_completed") == ["asterix", "breakout", "freeway"]
    assert sorted(e["game"] for e in events if e["type"] == "game_started") == ["asterix", "breakout", "freeway"]
    assert events[-1]["type"] == "run_completed" and events[-1]["state"] == "completed"
    # A sync after the end appends nothing: the journal is complete and not repeated.
    sync(srig, run_id)
    assert len(srig.events(run_id)) == len(events)


def test_scancel_by_hand_is_reported_as_cancelled_not_retried_and_the_run_can_be_resumed(srig, slurm):  # noqa: F811
    games = [fake_game("breakout", target=150, fake_episodes_per_sec=5, fake_ckpt_every=5), fake_game("freeway", target=30)]
    out = srig.ok("start", "--plan", slurm_plan(srig, games))
    run_id = out["run_id"]
    view = wait_state(srig, run_id, lambda v: game(v, "breakout")["state"] == "running", 60, "breakout running")
    slurm.run("scancel", view and game(view, "breakout")["slurm"]["job_id"])
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", 90, "the run to end")
    b = game(view, "breakout")
    assert b["state"] == "failed" and b["cause"] == "cancelled", b
    assert "scancel" in b["detail"]
    assert game(view, "freeway")["state"] == "completed"
    assert view["state"] == "failed"
    events = srig.events(run_id)
    assert_journal_sound(events)
    assert [e["cause"] for e in events if e["type"] == "game_failed"] == ["cancelled"]
    assert not [e for e in events if e["type"] == "game_restarting"]
    wait_until(lambda: slurm.run("squeue", "-h", "--name=gantry-" + run_id, "-o", "%i").stdout.strip() == "", 30,
               what="the run's jobs to leave the queue")
    # Resuming the run submits a new array: breakout continues from its checkpoint, freeway's
    # task sees completed.json and ends at once.
    again = srig.ok("start", "--run-id", run_id)
    assert again["resumed"] is True and again["queued"] == ["breakout"] and again["array_job_id"] != out["array_job_id"]
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", 120, "the resumed run to finish")
    assert view["state"] == "completed", view
    events = srig.events(run_id)
    assert_journal_sound(events)
    starts = [e for e in events if e["type"] == "game_started" and e["game"] == "breakout"]
    assert len(starts) == 2 and starts[1]["resumed_from_checkpoint"] is True
    assert [e["game"] for e in events if e["type"] == "game_started"].count("freeway") == 1


def test_stop_cancels_the_array_and_trainers_checkpoint(srig, slurm):  # noqa: F811
    games = [fake_game(n, target=100000, fake_episodes_per_sec=20, fake_ckpt_every=1000000) for n in ("breakout", "freeway")]
    run_id = srig.ok("start", "--plan", slurm_plan(srig, games))["run_id"]
    wait_state(srig, run_id, lambda v: all(g["state"] == "running" for g in v["games"]), 60, "both running")
    out = srig.ok("stop", "--run", run_id)
    assert out["state"] in ("stopping", "stopped")
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", 60, "the run to stop")
    assert view["state"] == "stopped", view
    for name in ("breakout", "freeway"):
        # SIGTERM → checkpoint: with checkpoints otherwise never due, one exists only from the stop.
        assert os.path.exists(os.path.join(srig.run_path(run_id), "games", name, "ckpt", "manifest.json")), name
    events = srig.events(run_id)
    assert_journal_sound(events)
    assert sorted(e["game"] for e in events if e["type"] == "game_stopped") == ["breakout", "freeway"]


def test_set_slots_changes_the_array_throttle_and_pause_resume_hold_and_release(srig, slurm):  # noqa: F811
    games = [fake_game(n, target=60, fake_episodes_per_sec=10) for n in ("breakout", "freeway", "asterix")]
    run_id = srig.ok("start", "--plan", slurm_plan(srig, games, slots=1))["run_id"]
    array = str(srig.status(run_id)["games"][0]["slurm"]["job_id"]).split("_")[0]
    show = slurm.run("scontrol", "show", "job", "-o", array).stdout
    assert "ArrayTaskThrottle=1" in show
    # The last game in queue order waits behind the throttle: hold it, then let it go.
    last = srig.status(run_id)["games"][-1]["game"]
    paused = srig.ok("pause", "--run", run_id, "--game", last)
    assert paused["action"] == "pause"
    assert "JobHeldUser" in slurm.run("squeue", "-h", "-j", paused["job_id"], "-o", "%r").stdout
    srig.ok("set-slots", "--run", run_id, "3")
    assert "ArrayTaskThrottle=3" in slurm.run("scontrol", "show", "job", "-o", array).stdout
    srig.ok("resume", "--run", run_id, "--game", last)
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", 120, "the run to finish")
    assert view["state"] == "completed", view
    events = srig.events(run_id)
    assert_journal_sound(events)
    kinds = [e["type"] for e in events]
    assert kinds.count("game_paused") == 1 and kinds.count("game_resumed") == 1 and kinds.count("slots_changed") == 1


def test_requeued_job_resumes_from_its_checkpoint_with_no_episode_lost_or_repeated(srig, slurm):  # noqa: F811
    games = [fake_game("breakout", target=600, fake_episodes_per_sec=20, fake_ckpt_every=10)]
    run_id = srig.ok("start", "--plan", slurm_plan(srig, games))["run_id"]
    view = wait_state(srig, run_id, lambda v: game(v, "breakout")["episodes"] >= 20, 60, "20 episodes")
    job = game(view, "breakout")["slurm"]["job_id"]
    slurm.run("scontrol", "requeue", job)  # what preemption does
    view = wait_state(srig, run_id, lambda v: game(v, "breakout")["state"] == "restarting", 60, "the requeue noticed")
    assert game(view, "breakout")["cause"] == "preempted"
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", REQUEUE_WAIT_S + 200, "the requeued job to finish")
    assert view["state"] == "completed", view
    events = srig.events(run_id)
    assert_journal_sound(events)
    starts = [e for e in events if e["type"] == "game_started"]
    assert [s["attempt"] for s in starts] == [1, 2] and starts[1]["resumed_from_checkpoint"] is True
    # The requeue's SIGTERM checkpointed at N episodes and the second attempt resumed at N: none
    # lost, none counted twice; progress never goes backwards.
    log = open(os.path.join(srig.run_path(run_id), "games", "breakout", "train.log")).read()
    saved = re.findall(r"SIGTERM, checkpointed at (\d+) episodes", log)
    resumed = re.findall(r"resumed from ckpt-\d+\.pt at (\d+) episodes", log)
    assert len(saved) == 1 and resumed == saved, log
    progress = [e["episodes"] for e in events if e["type"] == "progress"]
    assert progress == sorted(progress)
    assert [e for e in events if e["type"] == "game_completed"][0]["episodes"] == 600
    restarting = [e for e in events if e["type"] == "game_restarting"]
    assert [e["cause"] for e in restarting] == ["preempted"]


def test_time_limit_checkpoints_on_usr1_and_continues_in_the_requeued_job(srig, slurm):  # noqa: F811
    games = [fake_game("freeway", target=100000, fake_episodes_per_sec=4, fake_ckpt_every=1000000)]
    # 1 minute limit, USR1 50 s before it: the trainer checkpoints ~10 s in, SLURM never kills it.
    run_id = srig.ok("start", "--plan", slurm_plan(srig, games, time_limit_min=1, signal_grace_s=50))["run_id"]
    view = wait_state(srig, run_id, lambda v: game(v, "freeway")["state"] == "restarting", 120, "the USR1 requeue")
    g = game(view, "freeway")
    assert g["cause"] == "time_limit", g
    ckpt = os.path.join(srig.run_path(run_id), "games", "freeway", "ckpt", "manifest.json")
    assert os.path.exists(ckpt)
    view = wait_state(srig, run_id, lambda v: game(v, "freeway")["attempt"] >= 2 and game(v, "freeway")["state"] == "running",
                      REQUEUE_WAIT_S + 60, "the requeued job to run again")
    srig.ok("stop", "--run", run_id)
    wait_state(srig, run_id, lambda v: v["state"] != "running", 60, "the stop")
    events = srig.events(run_id)
    assert_journal_sound(events)
    starts = [e for e in events if e["type"] == "game_started"]
    assert starts[1]["resumed_from_checkpoint"] is True


def test_node_down_and_back_requeues_and_recovers(srig, slurm):  # noqa: F811
    games = [fake_game("asterix", target=400, fake_episodes_per_sec=20, fake_ckpt_every=10)]
    run_id = srig.ok("start", "--plan", slurm_plan(srig, games))["run_id"]
    wait_state(srig, run_id, lambda v: game(v, "asterix")["episodes"] >= 20, 60, "20 episodes")
    slurm.run("scontrol", "update", "nodename=" + slurm.node, "state=down", "reason=gantry-test")
    try:
        view = wait_state(srig, run_id, lambda v: game(v, "asterix")["state"] == "restarting", 60, "node failure noticed")
        assert game(view, "asterix")["cause"] == "node_fail", game(view, "asterix")
    finally:
        # ReturnToService=2 may already have brought it back when slurmd re-registered.
        slurm.run("scontrol", "update", "nodename=" + slurm.node, "state=resume", check=False)
        slurm.wait_node_state("idle")
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", REQUEUE_WAIT_S + 200, "the run to finish")
    assert view["state"] == "completed", view
    events = srig.events(run_id)
    assert_journal_sound(events)
    assert [e["episodes"] for e in events if e["type"] == "game_completed"] == [400]


def test_over_ssh_the_login_node_only_runs_short_commands(srig, slurm, tmp_path):  # noqa: F811
    """The desktop's loop over a real sshd as the login node: start, then poll `sync` and
    `attach --from-seq N` without --follow until the run ends; nothing of ours stays running there."""
    import json
    import shlex
    import subprocess

    from conftest import REMOTE
    from sshd_rig import SshdRig, require_sshd

    require_sshd()
    (tmp_path / "sshd").mkdir()
    # The login node's own environment points SLURM's commands at the cluster, as a site's does.
    login = SshdRig(str(tmp_path / "sshd"), extra_config=["SetEnv SLURM_CONF=" + slurm.conf]).start()
    try:
        env = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted(srig.env.items()) if k.startswith("GANTRY_") or k == "PYTHONPATH")
        python = shlex.quote(os.path.join(os.path.dirname(REMOTE), ".venv", "bin", "python"))

        def remote(*args: str) -> str:
            cmd = "cd %s && env %s %s -m gantry_remote %s --root %s %s" % (
                shlex.quote(REMOTE), env, python, args[0], shlex.quote(srig.root), " ".join(shlex.quote(a) for a in args[1:]))
            out = subprocess.run(login.ssh_argv(cmd), capture_output=True, text=True, timeout=60, check=False)
            assert out.returncode == 0, (args, out.stdout, out.stderr)
            return out.stdout

        games = [fake_game(n, target=30, fake_episodes_per_sec=20) for n in ("breakout", "seaquest")]
        run_id = json.loads(remote("start", "--plan", slurm_plan(srig, games)))["run_id"]
        received: List[Dict[str, Any]] = []
        deadline = time.monotonic() + 120
        while not any(e["type"] == "run_completed" for e in received):
            assert time.monotonic() < deadline, received
            remote("sync", "--run", run_id)
            from_seq = received[-1]["seq"] + 1 if received else 1
            received += [json.loads(line) for line in remote("attach", "--run", run_id, "--from-seq", str(from_seq)).splitlines()
                         if not json.loads(line).get("transient")]
            time.sleep(1)
        assert received == srig.events(run_id)  # every event once, in order
        assert_journal_sound(received)
        assert received[-1]["state"] == "completed"
        assert not [p for p in pids_with_arg(srig.root)], "a process of this run outlived it"
    finally:
        login.stop()
