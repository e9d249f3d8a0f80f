"""The per-run MPS daemon: started, reused, health-checked and quit through the control binary."""
import os
import shutil
import tempfile

import pytest

from gantry_remote import mps

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_mps_control.py")


@pytest.fixture
def control(tmp_path, monkeypatch):
    log = tmp_path / "mps.log"
    monkeypatch.setenv("GANTRY_MPS_CONTROL", FAKE)
    monkeypatch.setenv("FAKE_MPS_LOG", str(log))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return log


def calls(log):
    return log.read_text().split("\n")[:-1] if log.exists() else []


def test_start_points_clients_at_a_private_daemon_and_quit_ends_it(control, tmp_path):
    m = mps.Mps(str(tmp_path / "runs" / "r1"))
    assert m.client_env() == {}
    assert m.start() is None
    env = m.client_env()
    assert env["CUDA_MPS_PIPE_DIRECTORY"].startswith(str(tmp_path))
    assert len(os.path.join(env["CUDA_MPS_PIPE_DIRECTORY"], "control")) < 108  # unix socket limit
    assert oct(os.stat(env["CUDA_MPS_PIPE_DIRECTORY"]).st_mode & 0o777) == "0o700"
    assert m.healthy()
    m.stop()
    assert not m.healthy() and m.client_env() == {}
    assert calls(control) == ["get_server_list", "start", "get_server_list", "get_server_list", "quit",
                              "get_server_list"]


def test_a_live_daemon_of_the_same_run_is_reused(control, tmp_path):
    run = str(tmp_path / "runs" / "r1")
    first = mps.Mps(run)
    assert first.start() is None
    second = mps.Mps(run)  # a restarted supervisor
    assert second.start() is None
    assert calls(control).count("start") == 1
    assert second.client_env() == first.client_env()
    other = mps.Mps(str(tmp_path / "runs" / "r2"))
    assert other.client_env() == {} and other.pipe_dir != first.pipe_dir
    second.stop()


def test_refused_or_missing_daemon_gives_a_reason_and_no_client_env(control, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_MPS_REFUSE", "1")
    m = mps.Mps(str(tmp_path / "runs" / "r1"))
    reason = m.start()
    assert "refused to start (exit 1: An MPS control daemon cannot run" in reason
    assert m.client_env() == {}
    monkeypatch.setenv("GANTRY_MPS_CONTROL", str(tmp_path / "nope"))
    assert "nvidia-cuda-mps-control not found" in mps.Mps(str(tmp_path / "runs" / "r3")).start()


def test_restart_replaces_a_dead_daemon(control, tmp_path):
    m = mps.Mps(str(tmp_path / "runs" / "r1"))
    assert m.start() is None
    pid = int(open(os.path.join(m.pipe_dir, "fake-daemon.pid")).read())
    os.kill(pid, 9)
    assert not m.healthy()
    assert m.restart() is None and m.healthy()
    m.stop()


def test_a_temp_dir_too_deep_for_the_control_socket_falls_back_to_tmp(control, tmp_path, monkeypatch):
    # A unix socket path must fit in 108 bytes; a deep TMPDIR would put <pipe dir>/control past it.
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    m = mps.Mps(str(tmp_path / "runs" / "r1"))
    assert m.start() is None
    socket = os.path.join(m.client_env()["CUDA_MPS_PIPE_DIRECTORY"], "control")
    assert len(socket) < 108 and socket.startswith("/tmp/gantry-mps-%d/" % os.getuid())
    m.stop()


def test_the_per_user_folder_is_made_private_and_one_not_ours_is_refused(control, tmp_path):
    run = str(tmp_path / "runs" / "r1")
    user_dir = os.path.join(str(tmp_path), "gantry-mps-%d" % os.getuid())
    os.makedirs(user_dir)
    os.chmod(user_dir, 0o755)  # as an older Gantry left it
    m = mps.Mps(run)
    assert m.start() is None
    assert oct(os.stat(user_dir).st_mode & 0o777) == "0o700"
    m.stop()
    os.rename(user_dir, str(tmp_path / "elsewhere"))
    os.symlink(str(tmp_path / "elsewhere"), user_dir)  # a link someone planted
    started = len(calls(control))
    assert "not a folder of this user" in mps.Mps(run).start()
    os.unlink(user_dir)
    with open(user_dir, "w") as f:  # a file where the folder goes: said, not raised (the supervisor goes on)
        f.write("x")
    assert "cannot prepare the MPS daemon's folders" in mps.Mps(run).start()
    os.unlink(user_dir)
    os.makedirs(user_dir, mode=0o700)
    with open(os.path.join(user_dir, os.path.basename(os.path.dirname(mps.Mps(run).pipe_dir))), "w") as f:
        f.write("x")  # a file where the run's folder goes: makedirs fails
    assert "cannot prepare the MPS daemon's folders" in mps.Mps(run).start()
    shutil.rmtree(user_dir)
    if os.getuid() == 0:  # a folder of another user, on a shared host
        os.makedirs(user_dir, mode=0o700)
        os.chown(user_dir, 65534, 65534)
        assert "not a folder of this user (owner 65534)" in mps.Mps(run).start()
    assert len(calls(control)) == started  # the daemon was never asked again
