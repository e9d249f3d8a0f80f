#!/usr/bin/env python3
"""A stand-in for nvidia-cuda-mps-control with the same interface, for hosts without a GPU.

`-d` starts a detached "daemon" (a sleeping process whose pid sits in the pipe folder); without
`-d` it reads commands on stdin: `get_server_list` (exit 1 with NVIDIA's message when no daemon
answers) and `quit` (ends the daemon). Every call is appended to $FAKE_MPS_LOG. FAKE_MPS_REFUSE=1
makes `-d` fail the way a GPU in a forbidding compute mode does.
"""
import os
import signal
import subprocess
import sys
import time

pipe = os.environ["CUDA_MPS_PIPE_DIRECTORY"]
pid_file = os.path.join(pipe, "fake-daemon.pid")


def log(entry):
    path = os.environ.get("FAKE_MPS_LOG")
    if path:
        with open(path, "a") as f:
            f.write(entry + "\n")


def daemon_pid():
    try:
        pid = int(open(pid_file).read())
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return None if state in ("Z", "X") else pid  # a killed daemon nobody reaped yet is gone
    except (OSError, ValueError, IndexError):
        return None


if sys.argv[1:] == ["-d"]:
    log("start")
    if os.environ.get("FAKE_MPS_REFUSE") == "1":
        sys.stderr.write("An MPS control daemon cannot run on a GPU in compute mode Prohibited\n")
        sys.exit(1)
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(60)"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    with open(pid_file, "w") as f:
        f.write(str(child.pid))
    sys.exit(0)

command = sys.stdin.read().strip()
log(command)
pid = daemon_pid()
if pid is None:
    print("Cannot find MPS control daemon process")
    sys.exit(1)
if command == "quit":
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if daemon_pid() is None:
            break
        time.sleep(0.01)
    os.unlink(pid_file)
sys.exit(0)
