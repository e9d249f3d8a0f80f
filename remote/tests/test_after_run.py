"""`after-run`: the instance's after-run command runs at most once per ended run, whoever asks and
however often, never while the run is live; a crash between start and finish never reruns it."""
import json
import os
import subprocess
import sys
import threading

from conftest import REMOTE, fake_game

from gantry_remote import after_run


def after_run_cli(rig, run_id, command, *extra):
    argv = [sys.executable, "-m", "gantry_remote", "after-run", "--root", rig.root, "--run", run_id, *extra]
    proc = subprocess.run(argv, input=command.encode(), capture_output=True, timeout=60, env=rig.env, cwd=REMOTE)
    return proc.returncode, json.loads(proc.stdout.decode().strip().splitlines()[-1])


def finished_run(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", target=3)], slots=1))
    rig.wait_finished(run_id)
    return run_id


def test_runs_once_records_the_outcome_and_answers_already_after(rig, tmp_path):
    run_id = finished_run(rig)
    marks = tmp_path / "marks"
    command = "echo ran >> %s; echo 'bye from the host'; exit 3" % marks
    assert after_run_cli(rig, run_id, command, "--status")[1] == {"state": "none"}

    rc, out = after_run_cli(rig, run_id, command)
    assert rc == 0
    assert out["state"] == "finished" and out["exit_code"] == 3 and out["command"] == command
    assert "bye from the host" in out["output"] and out["finished_ts"] >= out["started_ts"]
    assert not out.get("already")

    rc, again = after_run_cli(rig, run_id, command)
    assert rc == 0 and again["already"] is True and again["exit_code"] == 3
    assert marks.read_text() == "ran\n"
    assert after_run_cli(rig, run_id, "", "--status")[1]["state"] == "finished"
    # The record is whole JSON and no temp file is left beside it.
    assert not [n for n in os.listdir(rig.run_path(run_id)) if n.startswith(".tmp-after-run-")]


def test_concurrent_callers_run_it_once(rig, tmp_path):
    run_id = finished_run(rig)
    marks = tmp_path / "marks"
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(after_run_cli(rig, run_id, "echo x >> %s; sleep 0.3" % marks)[1]))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert marks.read_text() == "x\n"
    assert sorted(bool(a.get("already")) for a in answers) == [False, True, True, True]


def test_a_started_record_without_outcome_is_never_rerun(rig, tmp_path):
    """A crash (or the command rebooting the host) between start and finish leaves 'started'."""
    run_id = finished_run(rig)
    marks = tmp_path / "marks"
    with open(os.path.join(rig.run_path(run_id), after_run.RECORD), "w") as f:
        json.dump({"state": "started", "command": "x", "started_ts": 1.0}, f)
    rc, out = after_run_cli(rig, run_id, "echo again >> %s" % marks)
    assert rc == 0 and out["state"] == "started" and out["already"] is True
    assert not marks.exists()
    # A guard that does not parse (a torn write by hand) still means it started.
    with open(os.path.join(rig.run_path(run_id), after_run.RECORD), "w") as f:
        f.write("{not json")
    assert after_run_cli(rig, run_id, "echo again >> %s" % marks)[1]["state"] == "started"
    assert not marks.exists()


def test_refused_while_the_run_is_live_and_for_an_empty_command(rig, tmp_path):
    run_id = rig.start(rig.plan([fake_game("breakout", target=100000)], slots=1))
    marks = tmp_path / "marks"
    rc, out = after_run_cli(rig, run_id, "echo x >> %s" % marks)
    assert rc == 2 and out["error"]["code"] == "run_running"
    rc, out = after_run_cli(rig, run_id, "   ")
    assert rc == 2 and out["error"]["code"] == "bad_arguments"
    assert not marks.exists()
    assert not os.path.exists(os.path.join(rig.run_path(run_id), after_run.RECORD))
    rig.ok("stop", "--run", run_id, "--wait")


def test_a_command_past_its_timeout_is_killed_and_recorded(rig, tmp_path):
    run_id = finished_run(rig)
    rc, out = after_run_cli(rig, run_id, "echo started; sleep 30", "--timeout", "0.5")
    assert rc == 0 and out["state"] == "finished" and out["timed_out"] is True and out["exit_code"] is None
    assert "started" in out["output"]
