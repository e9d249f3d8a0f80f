"""`attach` replay/follow and the journal's seq guarantees."""
import json
import subprocess
import sys

from conftest import REMOTE, fake_game, wait_until

from gantry_remote.journal import Journal, JournalReader


def test_from_seq_returns_exactly_the_missed_events(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", 30), fake_game("freeway", 20)], slots=1))
    rig.wait_finished(run_id)
    journal = rig.events(run_id)
    seen = rig.ok("attach", "--run", run_id, "--from-seq", "1")[:7]  # a client that dropped after 7 events
    missed = rig.ok("attach", "--run", run_id, "--from-seq", str(seen[-1]["seq"] + 1))
    assert seen + missed == journal
    assert rig.ok("attach", "--run", run_id, "--from-seq", str(journal[-1]["seq"] + 1)) is None  # nothing missed


def test_follow_streams_live_events_heartbeats_and_exits_when_done(rig):
    run_id = rig.start(rig.plan([fake_game("asterix", 40, fake_episodes_per_sec=15)]))
    wait_until(lambda: rig.of_type(run_id, "game_started"), what="started")
    proc = subprocess.Popen([sys.executable, "-m", "gantry_remote", "attach", "--root", rig.root, "--run", run_id,
                             "--from-seq", "3", "--follow"], stdout=subprocess.PIPE, env=rig.env, cwd=REMOTE)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    lines = [json.loads(line) for line in out.decode().splitlines()]
    journaled = [e for e in lines if not e.get("transient")]
    assert journaled == [e for e in rig.events(run_id) if e["seq"] >= 3]
    assert journaled[-1]["type"] == "run_completed"
    beats = [e for e in lines if e.get("transient")]
    assert beats, "no transient heartbeat in a ~3 s quiet-ish follow"
    assert all(b["type"] == "heartbeat" and b["run"] == run_id and b["supervisor_alive"] for b in beats)
    # A heartbeat's seq is the last journaled seq before it, never a new one.
    for i, e in enumerate(lines):
        if e.get("transient"):
            before = [x["seq"] for x in lines[:i] if not x.get("transient")]
            assert e["seq"] >= (before[-1] if before else 0)
            assert e["seq"] not in [x["seq"] for x in lines[i + 1:] if not x.get("transient")]


def test_attach_exits_quietly_when_the_reader_goes_away(rig):
    run_id = rig.start(rig.plan([fake_game("asterix", 400, fake_episodes_per_sec=5)]))
    wait_until(lambda: rig.of_type(run_id, "game_started"), what="started")
    proc = subprocess.Popen([sys.executable, "-m", "gantry_remote", "attach", "--root", rig.root, "--run", run_id, "--follow"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=rig.env, cwd=REMOTE)
    proc.stdout.readline()
    proc.stdout.close()  # like an SSH channel closing
    assert proc.wait(timeout=10) == 0
    assert b"Traceback" not in proc.stderr.read()
    rig.ok("stop", "--run", run_id, "--wait", "--grace", "2")


def test_reader_only_yields_complete_lines(tmp_path):
    path = str(tmp_path / "events.jsonl")
    reader = JournalReader(path)
    with open(path, "wb") as f:
        f.write(b'{"seq": 1, "type": "a"}\n{"seq": 2, "ty')
    assert [e["seq"] for e in reader.read_new()] == [1]
    with open(path, "ab") as f:
        f.write(b'pe": "b"}\n')
    assert [e["seq"] for e in reader.read_new()] == [2]


def test_journal_drops_torn_line_and_never_reuses_seq(tmp_path):
    path = str(tmp_path / "events.jsonl")
    j = Journal(path, "r1")
    for _ in range(3):
        j.append("heartbeat")
    with open(path, "ab") as f:
        f.write(b'{"v":1,"type":"progress","seq":4,"ga')  # crash mid-write
    j2 = Journal(path, "r1")
    assert j2.last_seq == 3
    j2.append("heartbeat")
    # state.json said 7 was used (the file tail was lost in an OS crash): continue above it.
    j3 = Journal(path, "r1", seq_floor=7)
    j3.append("heartbeat")
    seqs = [json.loads(line)["seq"] for line in open(path, "rb").read().splitlines()]
    assert seqs == [1, 2, 3, 4, 8]
