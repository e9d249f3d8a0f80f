"""The supervisor and trainers through faults, with real processes (issue #20 items 9-12).

Each scenario ends with the same checks: the journal is exactly seq 1..n, every line is valid
JSON and protocol v1, and no episode was counted twice or lost beyond the last checkpoint.
"""
import json
import os
import subprocess
import sys
import threading

from conftest import REMOTE, assert_journal_sound, fake_game, wait_until


def journal_lines(rig, run_id):
    with open(os.path.join(rig.run_path(run_id), "events.jsonl"), "rb") as f:
        data = f.read()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.split(b"\n")[:-1]]  # every line parses


def assert_sound_run(rig, run_id, targets):
    """Journal seq 1..n; each game completed exactly its target, once."""
    events = journal_lines(rig, run_id)
    assert_journal_sound(events)
    status = rig.status(run_id)
    assert status["last_seq"] == events[-1]["seq"]
    for game, target in targets.items():
        completions = [e for e in events if e["type"] == "game_completed" and e["game"] == game]
        assert len(completions) == 1, (game, completions)
        assert completions[0]["episodes"] == target
        done = json.load(open(os.path.join(rig.run_path(run_id), "games", game, "completed.json")))
        assert done["episodes"] == target
    return events


def test_concurrent_starts_of_one_run_report_the_one_live_supervisor(rig):
    plan = rig.plan([fake_game("breakout", 400, fake_episodes_per_sec=40)], slots=1)
    run_id = rig.start(plan, "--run-id", "race")
    rig.ok("stop", "--run", run_id, "--wait", "--grace", "5")
    results = []

    def start():
        results.append(rig.cli("start", "--run-id", run_id, timeout=60))

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_until(lambda: rig.status(run_id)["supervisor_alive"], what="a live supervisor")
    live_pid = rig.status(run_id)["supervisor_pid"]
    for rc, out in results:
        if rc == 0:
            assert out["pid"] == live_pid, (results, live_pid)  # never a pid that is already gone
        else:
            assert rc == 2 and out["error"]["code"] == "run_running", out
            assert str(live_pid) in out["error"]["message"]
    assert sum(1 for rc, _ in results if rc == 0) >= 1
    supervisors = [p for p in rig_pids(rig, "supervise") if p]
    assert supervisors == [live_pid]
    rig.ok("stop", "--run", run_id, "--wait", "--grace", "5")
    assert_journal_sound(journal_lines(rig, run_id))


def rig_pids(rig, word):
    from conftest import pids_with_arg
    out = []
    for pid in pids_with_arg(rig.root):
        try:
            args = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")
        except OSError:
            continue
        if word.encode() in args:
            out.append(pid)
    return out
