"""The instance's "after the run" action: a shell command the user wrote (stop the machine with the
provider's CLI, `sudo shutdown -h +5`), run once when a run has ended and the desktop has verified
every model on its own disk. The desktop decides *when*; this module makes sure it runs at most once.

`runs/<id>/after_run.json` is the guard. It is created with link() from a complete temp file, so it
either does not exist or holds a whole "started" record, and link() fails when it exists, so of two
callers (two desktops, a retry after a lost answer) exactly one runs the command. It is written
*before* the command starts and replaced atomically with the outcome after; a crash, a reboot the
command itself caused, or a dropped connection in between leaves "started", which is never run again.
"""
import json
import os
import pwd
import signal
import subprocess
import tempfile
import time
from typing import Any, Dict, Optional

from . import atomic, scheduler
from . import state as run_state
from .paths import UserError

RECORD = "after_run.json"
LOG = "after_run.log"
MAX_COMMAND_CHARS = 4000
OUTPUT_TAIL_BYTES = 4000
DEFAULT_TIMEOUT_S = 600.0


def read(run_path: str) -> Optional[Dict[str, Any]]:
    """The record, or None when the action never started. A record that does not parse still means
    it started (the guard exists): it is reported as started with its outcome unknown."""
    path = os.path.join(run_path, RECORD)
    if not os.path.lexists(path):
        return None
    try:
        data = atomic.read_json(path)
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("state") not in ("started", "finished"):
        return {"state": "started", "damaged": True}
    return data


def validate_command(command: str) -> str:
    text = command.strip()
    if not text:
        raise UserError("bad_arguments", "The after-run command is empty: give it on stdin.")
    if len(text) > MAX_COMMAND_CHARS or "\0" in text:
        raise UserError("bad_arguments", "The after-run command must be at most %d characters with no NUL." % MAX_COMMAND_CHARS)
    return text


def _claim(run_path: str, record: Dict[str, Any]) -> bool:
    """Create the guard holding `record`; False when it already exists (someone claimed it first)."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-after-run-", dir=run_path)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(record, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, os.path.join(run_path, RECORD))
        except FileExistsError:
            return False
    finally:
        os.unlink(tmp)
    atomic.fsync_dir(run_path)
    return True


def _login_shell() -> str:
    """What an SSH exec would run the command with: the user's login shell."""
    try:
        shell = pwd.getpwuid(os.getuid()).pw_shell
    except KeyError:
        shell = ""
    return shell if shell and os.path.isfile(shell) and os.access(shell, os.X_OK) else "/bin/sh"


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - OUTPUT_TAIL_BYTES))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run(run_path: str, command: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Dict[str, Any]:
    """Run the command once for this run; later calls return the record with "already": true."""
    command = validate_command(command)
    existing = read(run_path)
    if existing is not None:
        return dict(existing, already=True)
    if scheduler.kind_of_run(run_path) == "slurm":
        raise UserError("not_for_slurm", "A SLURM cluster's login node is shared: Gantry never runs an after-run command there.")
    st = run_state.load(run_path)
    if st is None or st.get("state") == "running" or run_state.supervisor_alive(run_path):
        raise UserError("run_running", "The run has not ended yet; the after-run command runs only after it ends.")
    record: Dict[str, Any] = {"state": "started", "command": command, "started_ts": time.time()}
    if not _claim(run_path, record):
        return dict(read(run_path) or {}, already=True)
    # The desktop may drop the connection while the command runs (or the command may stop the
    # machine): this process keeps going and writes the outcome, rather than dying with the channel.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    log_path = os.path.join(run_path, LOG)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([_login_shell(), "-c", command], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, cwd=os.path.expanduser("~"))
        try:
            exit_code: Optional[int] = proc.wait(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            exit_code, timed_out = None, True
    record.update(state="finished", exit_code=exit_code, timed_out=timed_out, finished_ts=time.time(), output=_tail(log_path))
    atomic.write_json(os.path.join(run_path, RECORD), record)
    return record
