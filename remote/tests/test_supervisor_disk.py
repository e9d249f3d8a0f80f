"""Disk full: state.json keeps its previous content, the supervisor keeps going and recovers."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from conftest import REMOTE, assert_journal_sound, fake_game, wait_until

from gantry_remote import state as run_state
from gantry_remote.plan import validate_plan

pytestmark = pytest.mark.skipif(not shutil.which("strace") or not shutil.which("unshare"),
                                reason="needs strace and unshare (apt-get install strace util-linux)")


def test_write_json_on_a_full_tmpfs_keeps_the_old_file(tmp_path):
    # A real ENOSPC: a 256 KiB tmpfs in a private mount namespace, filled up.
    script = textwrap.dedent("""
        import json, os, subprocess, sys
        sys.path.insert(0, %r)
        from gantry_remote import atomic
        mnt = %r
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt], check=True)
        target = os.path.join(mnt, "state.json")
        atomic.write_json(target, {"generation": 1})
        fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            os.close(fd)
        try:
            atomic.write_json(target, {"generation": 2, "pad": "y" * 100000})
            print("NO-ERROR")
        except OSError as e:
            print("ERRNO", e.errno)
        print("CONTENT", json.dumps(atomic.read_json(target)))
        print("LEFTOVER", sorted(n for n in os.listdir(mnt) if n.startswith(".tmp-")))
    """) % (REMOTE, str(tmp_path))
    out = subprocess.run(["unshare", "-rm", sys.executable, "-c", script], capture_output=True, timeout=30)
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr.decode()
    assert "ERRNO 28" in text  # ENOSPC
    assert 'CONTENT {"generation": 1}' in text
    assert "LEFTOVER []" in text


def test_supervisor_survives_enospc_on_every_write_for_a_while(rig):
    plan = validate_plan({
        "name": "disk", "slots": 2,
        "games": [fake_game("breakout", 40, fake_episodes_per_sec=20), fake_game("freeway", 30, fake_episodes_per_sec=20)],
        "restart": {"max_restarts": 1, "backoff_s": [0.2]}, "heartbeat_timeout_s": 30, "gpu_sample_s": 5,
    })
    run_id = "disk-full"
    path = rig.run_path(run_id)
    os.makedirs(os.path.join(path, "games"))
    with open(os.path.join(path, "plan.json"), "w") as f:
        json.dump(plan, f)
    run_state.save(path, run_state.new_state(run_id, plan))
    # Only the supervisor is traced (no -f): from its 40th write() on, the next 150 writes fail
    # with ENOSPC: journal appends, state.json temp files and log lines alike. Trainers write normally.
    log = open(os.path.join(path, "supervisor.log"), "ab")
    sup = subprocess.Popen(
        ["strace", "-qq", "-o", "/dev/null", "-e", "trace=write", "-e", "inject=write:error=ENOSPC:when=40..190",
         sys.executable, "-m", "gantry_remote", "supervise", "--root", rig.root, "--run-id", run_id],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=rig.env, cwd=REMOTE)
    snapshots = []

    def sample_state():
        # Whatever moment we look, state.json parses (old or new content, never torn).
        snapshots.append(json.load(open(os.path.join(path, "state.json"))))
        return sup.poll() is not None

    wait_until(sample_state, timeout=60, interval=0.01, what="supervisor to finish")
    assert sup.returncode == 0
    assert len(snapshots) > 20
    status = rig.status(run_id)
    assert status["state"] == "completed", status
    assert all(g["state"] == "completed" for g in status["games"])
    events = rig.events(run_id)
    assert_journal_sound(events)  # failed appends were rolled back and retried with the same seq
    assert events[-1]["type"] == "run_completed"
    assert status["last_seq"] == events[-1]["seq"]
    assert not [n for n in os.listdir(path) if n.startswith(".tmp-")]
    # The failure window really hit state writes, and the supervisor noticed when they worked again.
    assert "state.json writable again" in open(os.path.join(path, "supervisor.log")).read()
