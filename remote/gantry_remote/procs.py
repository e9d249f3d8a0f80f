"""Process identity and signalling that survive a supervisor restart.

A pid alone is not an identity: after a reboot or a long run the number can be reused. We pair
it with the kernel's start time (field 22 of /proc/<pid>/stat), recorded when the trainer
starts, and only signal or adopt a process whose pair still matches.
"""
import errno
import os
import signal
from typing import NamedTuple, Optional


def start_time(pid: int) -> Optional[int]:
    """Kernel start time of `pid` in clock ticks, or None if it is gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            raw = f.read().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses; fields after the last ')'.
    fields = raw[raw.rfind(")") + 2:].split()
    if not fields or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def environ_value(pid: int, name: str) -> Optional[str]:
    """One variable of a live process's environment as it was started, or None."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            entries = f.read().split(b"\0")
    except OSError:
        return None
    prefix = name.encode() + b"="
    for entry in entries:
        if entry.startswith(prefix):
            return entry[len(prefix):].decode("utf-8", "replace")
    return None


def is_same_process(pid: Optional[int], recorded_start: Optional[int]) -> bool:
    if not pid or pid <= 0 or recorded_start is None:
        return False
    return start_time(pid) == recorded_start


class FoundTrainer(NamedTuple):
    pid: int
    start: int
    resumed: bool  # started with --resume


def find_trainer(run_dir: str) -> Optional[FoundTrainer]:
    """The live trainer of ours started with `--run-dir run_dir`, or None.

    For a trainer the supervisor started but died before recording: the next supervisor adopts
    it instead of starting a second trainer on the same directory. Trainers lead their own
    session (start_new_session), which tells them from forked helpers sharing their argv."""
    wanted = os.path.realpath(run_dir).encode()
    uid = os.getuid()
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    for entry in entries:
        pid = int(entry)
        try:
            if os.stat("/proc/" + entry).st_uid != uid or os.getsid(pid) != pid:
                continue
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        for flag, value in zip(argv, argv[1:]):
            if flag == b"--run-dir" and os.path.realpath(value) == wanted:
                started = start_time(pid)
                if started is not None:
                    return FoundTrainer(pid, started, b"--resume" in argv)
    return None


def signal_group(pid: int, sig: int) -> bool:
    """Signal the process group led by `pid` (trainers run with start_new_session)."""
    try:
        os.killpg(pid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    except OSError as e:  # pragma: no cover - e.g. ESRCH on odd kernels
        if e.errno == errno.ESRCH:
            return False
        raise


def terminate_group(pid: int) -> bool:
    return signal_group(pid, signal.SIGTERM)


def kill_group(pid: int) -> bool:
    return signal_group(pid, signal.SIGKILL)
