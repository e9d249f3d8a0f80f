"""The supervisor and trainers through faults, with real processes (issue #20 items 9-12).

Each scenario ends with the same checks: the journal is exactly seq 1..n, every line is valid
JSON and protocol v1, and no episode was counted twice or lost beyond the last checkpoint.
"""
import json
import os
import subprocess
import sys
import threading

from conftest import FAKE_TRAINER, REMOTE, assert_journal_sound, fake_game, wait_until


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


def prepared_run(rig, run_id, games, **fields):
    """A run directory as `start` leaves it, for a supervisor we launch ourselves (under strace)."""
    from gantry_remote import state as run_state
    from gantry_remote.plan import validate_plan

    plan = validate_plan(dict({"name": "faults", "slots": len(games), "games": games,
                               "restart": {"max_restarts": 20, "backoff_s": [0.2]}, "heartbeat_timeout_s": 30,
                               "gpu_sample_s": 5}, **fields))
    path = rig.run_path(run_id)
    os.makedirs(os.path.join(path, "games"))
    with open(os.path.join(path, "plan.json"), "w") as f:
        json.dump(plan, f)
    run_state.save(path, run_state.new_state(run_id, plan))
    return path


def supervise_under_strace(rig, run_id, *strace_args):
    path = rig.run_path(run_id)
    log = open(os.path.join(path, "supervisor.log"), "ab")
    return subprocess.Popen(
        ["strace", "-qq", "-o", "/dev/null"] + list(strace_args)
        + [sys.executable, "-m", "gantry_remote", "supervise", "--root", rig.root, "--run-id", run_id],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=rig.env, cwd=REMOTE)


def test_events_the_disk_refused_are_written_by_the_next_supervisor_without_a_gap(rig):
    targets = {"breakout": 160, "freeway": 120}
    path = prepared_run(rig, "enospc", [fake_game(g, t, fake_episodes_per_sec=20) for g, t in targets.items()])
    events_path = os.path.join(path, "events.jsonl")
    # Only events.jsonl is refused (-P): from its 4th write on the disk is "full", while state.json
    # keeps being written. Then the supervisor dies before the disk recovers.
    tracer = supervise_under_strace(rig, "enospc", "-P", events_path, "-e", "trace=write",
                                    "-e", "inject=write:error=ENOSPC:when=4+")
    log_path = os.path.join(path, "supervisor.log")
    wait_until(lambda: open(log_path).read().count("cannot write") >= 8, timeout=30, what="refused journal writes")
    from gantry_remote import runlock
    supervisor = int(runlock.holder_pid(os.path.join(path, "supervisor.lock")))
    os.kill(supervisor, 9)
    tracer.wait(timeout=10)
    on_disk = journal_lines(rig, "enospc")
    saved = rig.state("enospc")
    assert saved["last_seq"] == on_disk[-1]["seq"]  # the last seq written, not the last one queued
    refused = [e["type"] for e in saved["unwritten_events"]]
    assert len(refused) >= 3
    # The trainers ran on; a new supervisor adopts them and writes what the disk refused first.
    rig.ok("start", "--run-id", "enospc")
    rig.wait_finished("enospc", timeout=60)
    events = assert_sound_run(rig, "enospc", targets)
    after = [e["type"] for e in events[len(on_disk):len(on_disk) + len(refused)]]
    assert after == refused
    assert rig.state("enospc")["unwritten_events"] == []


def test_journal_fsync_errors_are_retried_without_a_gap_or_a_torn_line(rig):
    targets = {"breakout": 100}
    path = prepared_run(rig, "eio", [fake_game(g, t, fake_episodes_per_sec=20) for g, t in targets.items()])
    tracer = supervise_under_strace(rig, "eio", "-P", os.path.join(path, "events.jsonl"), "-e", "trace=fsync",
                                    "-e", "inject=fsync:error=EIO:when=3..12")
    assert tracer.wait(timeout=60) == 0
    assert_sound_run(rig, "eio", targets)
    assert "Input/output error" in open(os.path.join(path, "supervisor.log")).read()


def resume_points(rig, run_id, game):
    """(global_step the trainer resumed from, newest checkpoint the journal had recorded by then)
    for every restart from a checkpoint."""
    log = open(os.path.join(rig.run_path(run_id), "games", game, "train.log")).read()
    resumed = [int(line.split("resumed from ckpt-")[1].split(".pt")[0]) for line in log.splitlines() if "resumed from ckpt-" in line]
    out, newest = [], 0
    starts = iter(resumed)
    for e in journal_lines(rig, run_id):
        if e["type"] == "checkpoint" and e["game"] == game:
            newest = max(newest, e["global_step"])
        elif e["type"] == "game_started" and e["game"] == game and e["resumed_from_checkpoint"]:
            out.append((next(starts, None), newest))
    return out


def test_trainers_killed_mid_checkpoint_resume_from_their_last_checkpoint_and_clean_up(rig, tmp_path):
    # The first three attempts are killed (SIGKILL, by strace) at their 4th rename: the data file
    # of their second checkpoint, after the first one is committed. Later attempts run untouched.
    # No game picture: its atomic writes are renames too, and would take the 4th.
    counter = tmp_path / "attempts"
    script = ('n=$(cat %s 2>/dev/null || echo 0); echo $((n+1)) > %s; '
              'if [ "$n" -lt 3 ]; then exec strace -f -qq -o /dev/null -e trace=rename '
              '-e inject=rename:signal=KILL:when=4 "$0" %s "$@"; fi; exec "$0" %s "$@"') % (
        counter, counter, FAKE_TRAINER, FAKE_TRAINER)
    rig.env["GANTRY_TRAINER_COMMAND"] = json.dumps(["sh", "-c", script, sys.executable])
    plan = rig.plan([fake_game("breakout", 120, fake_episodes_per_sec=30, fake_ckpt_every=10, thumbnail_seconds=0)], slots=1,
                    restart={"max_restarts": 10, "backoff_s": [0.1]})
    run_id = rig.start(plan, "--run-id", "killed")
    rig.wait_finished(run_id, timeout=90)
    assert int(counter.read_text()) >= 4
    assert_sound_run(rig, run_id, {"breakout": 120})
    points = resume_points(rig, run_id, "breakout")
    assert len(points) == 3 and all(resumed == recorded for resumed, recorded in points), points
    ckpt = os.path.join(rig.run_path(run_id), "games", "breakout", "ckpt")
    assert not [n for n in os.listdir(ckpt) if n.startswith(".tmp-")]
    log = open(os.path.join(rig.run_path(run_id), "games", "breakout", "train.log")).read()
    assert "left by an interrupted write" in log or "manifest does not list" in log


def test_a_damaged_checkpoint_manifest_resumes_from_the_newest_good_checkpoint(rig):
    plan = rig.plan([fake_game("breakout", 200, fake_episodes_per_sec=25, fake_ckpt_every=20)], slots=1)
    run_id = rig.start(plan, "--run-id", "manifest")
    ckpt = os.path.join(rig.run_path(run_id), "games", "breakout", "ckpt")

    def listed():
        try:
            return json.load(open(os.path.join(ckpt, "manifest.json")))["checkpoints"]
        except (OSError, ValueError):
            return []

    wait_until(lambda: len(listed()) >= 2, timeout=30, what="two checkpoints")
    [trainer] = wait_until(lambda: rig.trainer_pids("breakout"), what="the trainer")
    os.killpg(trainer, 19)  # SIGSTOP: nothing changes on disk while we damage the manifest
    newest = listed()[-1]
    with open(os.path.join(ckpt, "manifest.json"), "wb") as f:
        f.write(b'{"checkpoints": [{"fi')  # a torn write, as a full disk or a bad editor leaves it
    os.killpg(trainer, 9)
    rig.wait_finished(run_id, timeout=60)
    assert_sound_run(rig, run_id, {"breakout": 200})
    log = open(os.path.join(rig.run_path(run_id), "games", "breakout", "train.log")).read()
    assert "manifest.json is damaged" in log
    assert "resumed from %s at %d episodes" % (newest["file"], newest["episodes"]) in log
    started = [e for e in journal_lines(rig, run_id) if e["type"] == "game_started"]
    assert [e["resumed_from_checkpoint"] for e in started] == [False, True]
