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

from . import runlock
from .failure import log_tail
from .paths import UserError
from .plan import trainer_env

# A loser gives up on the lock after runlock's wait (1 s) plus its start-up; on a loaded host that
# can take several seconds, and until then we cannot say which supervisor won.
_CONFIRM_TIMEOUT_S = 60.0


def spawn_supervisor(root: str, run_id: str, run_path: str) -> Dict[str, Any]:
    log_path = os.path.join(run_path, "supervisor.log")
    lock_path = os.path.join(run_path, "supervisor.lock")
    argv = [sys.executable, "-m", "gantry_remote", "supervise", "--root", root, "--run-id", run_id]
    with open(log_path, "ab") as log:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 cwd=run_path, env=trainer_env(), start_new_session=True, close_fds=True)
    # Answer only once the child holds the lock (it writes its pid into the lock file) or has
    # exited: several concurrent starts then agree on the one live supervisor, and an immediate
    # crash is reported instead of a pid that is already gone.
    deadline = time.monotonic() + _CONFIRM_TIMEOUT_S
    while True:
        if child.poll() is not None:
            if child.returncode == 3:
                raise UserError("run_running", "Run %s already has a live supervisor (pid %s). Use `status --run %s`." % (
                    run_id, runlock.holder_pid(lock_path), run_id))
            raise UserError("supervisor_died", "The supervisor exited at once (code %s). Last log lines: %s" % (
                child.returncode, log_tail(log_path, 1500).strip()[-600:]))
        # Only the lock holder writes its pid there; probing the lock itself could race with it.
        if runlock.owner(lock_path) == str(child.pid):
            return {"run_id": run_id, "pid": child.pid}
        if time.monotonic() > deadline:
            raise UserError("supervisor_unconfirmed", "The supervisor (pid %d) did not take the run's lock within %.0f s. "
                            "Check `status --run %s` and supervisor.log." % (child.pid, _CONFIRM_TIMEOUT_S, run_id))
        time.sleep(0.02)
