"""The SLURM rig itself: a batch job runs on the single node and its output comes back, and a
test run killed mid-way leaves no daemons behind once the next rig starts."""
import json
import os
import subprocess
import sys
import time

from conftest import TESTS
from slurm_rig import PIDS_FILE, RIG_PREFIX, _cmdline, slurm, stop_stale_rigs  # noqa: F401  (slurm is a fixture)


def test_a_batch_job_runs_and_the_node_returns_to_idle(slurm, tmp_path):  # noqa: F811
    out = tmp_path / "hello.out"
    script = tmp_path / "hello.sh"
    script.write_text("#!/bin/bash\necho hello from $SLURM_JOB_ID on $SLURMD_NODENAME\n")
    job = slurm.run("sbatch", "--parsable", "-o", str(out), str(script)).stdout.strip()
    deadline = time.monotonic() + 30
    while job in slurm.job_ids() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert out.read_text().strip() == "hello from %s on %s" % (job, slurm.node)
    assert os.path.exists(slurm.conf)
    slurm.wait_node_state("idle")


def test_a_killed_test_run_leaves_no_daemons_behind_the_next_rig_stops_them(slurm):  # noqa: F811
    # Another test run starts its own rig and is killed outright: nothing stops its daemons.
    child = subprocess.Popen([sys.executable, "-c", "import time; from slurm_rig import SlurmRig; "
                              "print(SlurmRig(cpus=1).start().dir, flush=True); time.sleep(600)"],
                             cwd=TESTS, stdout=subprocess.PIPE, text=True)
    try:
        folder = child.stdout.readline().strip()
        with open(os.path.join(folder, PIDS_FILE)) as f:
            daemons = json.load(f)["daemons"]
    finally:
        child.kill()
        child.wait()
    assert sorted(d["name"] for d in daemons) == ["munged", "slurmctld", "slurmd"]
    assert all(_cmdline(d["pid"]) == d["cmdline"] for d in daemons), "the killed run's daemons should still run"
    ended = stop_stale_rigs()
    assert {d["pid"] for d in daemons} <= {d["pid"] for d in ended}  # (with any other killed run's)
    deadline = time.monotonic() + 20
    while any(_cmdline(d["pid"]) for d in daemons) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [d for d in daemons if _cmdline(d["pid"])]
    assert not os.path.exists(folder)
    # This test run's own rig is alive and was left alone.
    assert os.path.exists(os.path.join(slurm.dir, PIDS_FILE))
    slurm.wait_node_state("idle")


def test_only_recorded_processes_of_dead_runs_are_stopped(tmp_path):
    sleeper = subprocess.Popen(["sleep", "300"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        def rig(name, owner, cmdline):
            folder = tmp_path / (RIG_PREFIX + name)
            folder.mkdir()
            (folder / PIDS_FILE).write_text(json.dumps({"owner": owner, "daemons": [
                {"name": "slurmd", "pid": sleeper.pid, "cmdline": cmdline}]}))
            return folder
        alive_owner = {"pid": os.getpid(), "cmdline": _cmdline(os.getpid())}
        gone_owner = {"pid": dead.pid, "cmdline": "python3 -m pytest"}
        live = rig("live", alive_owner, "sleep 300")  # its test run still goes
        reused = rig("reused", gone_owner, "/usr/sbin/slurmd -f /tmp/x/slurm.conf")  # the pid is someone else's now
        assert stop_stale_rigs(str(tmp_path)) == []
        assert sleeper.poll() is None and live.exists() and not reused.exists()
        rig("stale", gone_owner, "sleep 300")
        assert [d["pid"] for d in stop_stale_rigs(str(tmp_path))] == [sleeper.pid]
        assert sleeper.wait(timeout=15) is not None
    finally:
        sleeper.kill()
