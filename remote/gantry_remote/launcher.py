"""Start a run's supervisor fully detached from whoever ran `start` (an SSH session, a terminal).

setsid (start_new_session) drops the controlling terminal, so no SIGHUP reaches it when the SSH
connection goes; stdin is /dev/null and stdout/stderr go to supervisor.log, so no SSH channel is
held open and nothing blocks on a pipe. The launching CLI exits right away, so the supervisor is
re-parented to init, which is the second half of the classic double fork.
"""
import os
import subprocess
import sys
import time
from typing import Any, Dict

from .failure import log_tail
from .paths import UserError
from .plan import trainer_env

_CONFIRM_TIMEOUT_S = 1.5


def _lock_owner(lock_path: str) -> str:
    try:
        with open(lock_path, "rb") as f:
            return f.read().decode("ascii", "replace").strip()
    except OSError:
        return ""


def spawn_supervisor(root: str, run_id: str, run_path: str) -> Dict[str, Any]:
    log_path = os.path.join(run_path, "supervisor.log")
    lock_path = os.path.join(run_path, "supervisor.lock")
    argv = [sys.executable, "-m", "gantry_remote", "supervise", "--root", root, "--run-id", run_id]
    with open(log_path, "ab") as log:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 cwd=run_path, env=trainer_env(), start_new_session=True, close_fds=True)
    # Confirm it took the lock (it writes its pid into the lock file) so a racing second start
    # or an immediate crash is reported instead of a pid that is already gone.
    deadline = time.monotonic() + _CONFIRM_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            if child.returncode == 3:
                raise UserError("run_running", "Run %s already has a live supervisor. Use `status --run %s`." % (run_id, run_id))
            raise UserError("supervisor_died", "The supervisor exited at once (code %s). Last log lines: %s" % (
                child.returncode, log_tail(log_path, 1500).strip()[-600:]))
        # Only the lock holder writes its pid there; probing the lock itself could race with it.
        if _lock_owner(lock_path) == str(child.pid):
            break
        time.sleep(0.02)
    return {"run_id": run_id, "pid": child.pid}
