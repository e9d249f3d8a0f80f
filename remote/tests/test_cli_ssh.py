"""Start a run over a real SSH session, kill the connection, and training carries on."""
import os
import shlex
import signal
import subprocess
import time

from conftest import REMOTE, fake_game, wait_until
from sshd_rig import sshd  # noqa: F401  (pytest fixture)


def metrics_size(rig, run_id, game):
    try:
        return os.path.getsize(os.path.join(rig.run_path(run_id), "games", game, "metrics.jsonl"))
    except FileNotFoundError:
        return 0


def test_training_survives_the_ssh_connection_dying(rig, sshd):  # noqa: F811 (the imported fixture)
    plan = rig.plan([fake_game("breakout", 400, fake_episodes_per_sec=10), fake_game("freeway", 400, fake_episodes_per_sec=10)], slots=2)
    env = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted(rig.env.items()) if k.startswith("GANTRY_") or k == "PYTHONPATH")
    # Like the desktop: start, then keep the session open (here: sleeping) until the link drops.
    sleeper = "sleep %d" % (600000 + sshd.port)  # unique, so we can see this session's shell die
    remote_cmd = "cd %s && env %s %s -m gantry_remote start --root %s --plan %s; %s" % (
        shlex.quote(REMOTE), env, shlex.quote(os.path.join(os.path.dirname(REMOTE), ".venv", "bin", "python")),
        shlex.quote(rig.root), shlex.quote(plan), sleeper)
    # -tt: a pty, so losing the connection hangs up the session (SIGHUP), the harshest case.
    client = subprocess.Popen(sshd.ssh_argv(remote_cmd, tty=True), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        line = client.stdout.readline().decode().strip()
        assert '"run_id"' in line, (line, client.stderr.read1(4000) if client.poll() is not None else b"")
        run_id = __import__("json").loads(line)["run_id"]
        wait_until(lambda: metrics_size(rig, run_id, "breakout") > 0 and metrics_size(rig, run_id, "freeway") > 0,
                   what="trainers writing metrics")
    finally:
        client.send_signal(signal.SIGKILL)  # the laptop lid closes: no clean SSH teardown
        client.wait()
    # sshd sees the connection drop and hangs up the pty: the remote shell and its `sleep` die.
    wait_until(lambda: not [p for p in _pids_of_cmd(sleeper)], timeout=20, what="ssh session torn down")
    before = {g: metrics_size(rig, run_id, g) for g in ("breakout", "freeway")}
    time.sleep(1.0)
    after = {g: metrics_size(rig, run_id, g) for g in ("breakout", "freeway")}
    assert all(after[g] > before[g] for g in before), (before, after)
    status = rig.status(run_id)
    assert status["supervisor_alive"] and [g["state"] for g in status["games"]] == ["running", "running"]
    out = rig.ok("stop", "--run", run_id, "--wait", "--grace", "3")
    assert out["state"] == "stopped"


def _pids_of_cmd(needle):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if needle.encode() in open("/proc/%s/cmdline" % entry, "rb").read().replace(b"\0", b" "):
                    found.append(int(entry))
            except OSError:
                pass
    return found
