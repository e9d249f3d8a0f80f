"""CUDA MPS for one run, so trainers sharing a GPU run side by side instead of time-slicing.

Without MPS the driver gives each process the whole GPU in turn: six trainers on one GPU add up
to about what one gets alone. Under an MPS control daemon their kernels run concurrently. The
supervisor starts a private daemon per run (its pipe and log folders are the run's own, so it
never touches another user's or another run's daemon), points every trainer at it through
CUDA_MPS_PIPE_DIRECTORY / CUDA_MPS_LOG_DIRECTORY, and quits it when the run ends. Where MPS is
missing or refused (no binary, a GPU in a compute mode that forbids it, a container without
access) the run goes on time-sliced and the journal says why, once.

One MPS server serves every client on a GPU, so a fatal fault in one client can end all of them:
`healthy()` tells the supervisor whether the daemon still answers, so it can restart it before
the affected trainers restart from their checkpoints.
"""
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from typing import Dict, Optional

CONTROL = "nvidia-cuda-mps-control"
_TIMEOUT_S = 10.0


def control_path() -> Optional[str]:
    # Tests (and unusual installs) point GANTRY_MPS_CONTROL at a specific executable.
    override = os.environ.get("GANTRY_MPS_CONTROL")
    if override:
        return override if os.access(override, os.X_OK) else None
    return shutil.which(CONTROL)


_SOCKET_PATH_MAX = 107  # bytes of a unix socket path (sun_path holds 108 with the final NUL)


def _private_dir(run_path: str) -> str:
    # The control socket is <pipe dir>/pipe/control and a unix socket path must fit in sun_path,
    # which a deep ~/.gantry/runs/<id> may not: use a short per-user, per-run folder under the temp
    # dir, or under /tmp where the temp dir itself (TMPDIR) is too deep.
    digest = hashlib.sha256(os.path.abspath(run_path).encode()).hexdigest()[:16]
    for top in (tempfile.gettempdir(), "/tmp"):
        base = os.path.join(top, "gantry-mps-%d" % os.getuid(), digest)
        if len(os.path.join(base, "pipe", "control").encode()) <= _SOCKET_PATH_MAX:
            break
    return base


def _not_private(user_dir: str) -> Optional[str]:
    """Why the per-user folder (in a temp dir other users can write to) cannot hold the daemon's
    socket, or None: it must be a real folder of this user; one that others can enter (an older
    Gantry left it so) is closed to them first."""
    st = os.lstat(user_dir)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        return "%s is not a folder of this user (owner %d); MPS stays off" % (user_dir, st.st_uid)
    if st.st_mode & 0o077:
        os.chmod(user_dir, 0o700)
    return None


class Mps:
    def __init__(self, run_path: str) -> None:
        base = _private_dir(run_path)
        self.pipe_dir = os.path.join(base, "pipe")
        self.log_dir = os.path.join(base, "log")
        self.active = False

    def client_env(self) -> Dict[str, str]:
        """What a trainer needs in its environment to be a client of this run's daemon."""
        if not self.active:
            return {}
        return {"CUDA_MPS_PIPE_DIRECTORY": self.pipe_dir, "CUDA_MPS_LOG_DIRECTORY": self.log_dir}

    def _control(self, *args: str, stdin: bytes = b"") -> "subprocess.CompletedProcess[bytes]":
        exe = control_path()
        if exe is None:
            raise OSError("%s not found" % CONTROL)
        env = dict(os.environ, CUDA_MPS_PIPE_DIRECTORY=self.pipe_dir, CUDA_MPS_LOG_DIRECTORY=self.log_dir)
        return subprocess.run([exe, *args], input=stdin, capture_output=True, env=env, timeout=_TIMEOUT_S)

    def start(self) -> Optional[str]:
        """Start (or reuse) the daemon. None when MPS is on, else the reason it is not."""
        if control_path() is None:
            return "%s not found (install the NVIDIA driver's MPS tools to run trainers side by side)" % CONTROL
        user_dir = os.path.dirname(os.path.dirname(self.pipe_dir))
        try:
            os.makedirs(user_dir, mode=0o700, exist_ok=True)
            refused = _not_private(user_dir)
            if refused:
                return refused
            for folder in (self.pipe_dir, self.log_dir):
                os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError as e:
            return "cannot prepare the MPS daemon's folders under %s: %s" % (user_dir, e)
        if self.healthy():  # a daemon left by this run's previous supervisor: reuse it
            self.active = True
            return None
        try:
            proc = self._control("-d")
        except (OSError, subprocess.TimeoutExpired) as e:
            return "cannot start the MPS control daemon: %s" % e
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()[-300:]
            return "the MPS control daemon refused to start (exit %d%s)" % (
                proc.returncode, ": " + detail if detail else "")
        if not self.healthy():
            return "the MPS control daemon started but does not answer"
        self.active = True
        return None

    def healthy(self) -> bool:
        try:
            proc = self._control(stdin=b"get_server_list\n")
        except (OSError, subprocess.TimeoutExpired):
            return False
        # The client answers "Cannot find MPS control daemon process" when nobody listens.
        return proc.returncode == 0 and b"Cannot find" not in proc.stdout + proc.stderr

    def stop(self) -> None:
        if not self.active:
            return
        try:
            self._control(stdin=b"quit\n")
        except (OSError, subprocess.TimeoutExpired):
            pass  # the daemon is gone already; nothing else to release
        self.active = False

    def restart(self) -> Optional[str]:
        self.stop()
        return self.start()
