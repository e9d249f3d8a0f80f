"""A real single-node SLURM cluster on this machine for tests: munged, slurmctld and slurmd with a
temp slurm.conf (private ports, private munge socket, state and logs under a temp folder).

Usage: the session-scoped `slurm` fixture yields a SlurmRig; run SLURM commands with
`rig.env` (it carries SLURM_CONF). Stopped by pid at the end. Without slurm-wlm/munge the tests
skip, or fail when CI=true (TESTING.md, "A real SLURM cluster on this machine").

A test run that is killed cannot stop its daemons, so each rig records who started it and the
daemons' pids and command lines in its folder (rig-pids.json); the next rig to start stops those
of rigs whose starter is gone, by pid, only while the pid's command line is still the recorded one
(a rig of a test run still going is left alone).
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any, Dict, List, Optional

import pytest

BINARIES = ("munged", "munge", "slurmctld", "slurmd", "sinfo", "squeue", "sbatch", "scontrol", "scancel")
INSTALL = "apt-get install -y --no-install-recommends slurm-wlm munge"
MUNGE_KEY = "/etc/munge/munge.key"
RIG_PREFIX = "gantry-slurm-"
PIDS_FILE = "rig-pids.json"


def slurm_unavailable_reason() -> Optional[str]:
    missing = [b for b in BINARIES if shutil.which(b) is None and not os.access("/usr/sbin/" + b, os.X_OK)]
    if missing:
        return "SLURM/munge missing (%s): %s" % (", ".join(missing), INSTALL)
    if os.geteuid() != 0:
        return "the SLURM rig runs slurmd as root (it starts jobs as any user); run the tests as root"
    if not os.path.exists(MUNGE_KEY):
        return "%s is missing: run `mungekey -c` (as root) after %s" % (MUNGE_KEY, INSTALL)
    return None


def require_slurm() -> None:
    reason = slurm_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sbin(name: str) -> str:
    return shutil.which(name) or "/usr/sbin/" + name


def _cmdline(pid: int) -> Optional[str]:
    """The process's command line (NULs as spaces), or None when there is no such process."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace") or None


def _running_as_recorded(entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("pid"), int) or not isinstance(entry.get("cmdline"), str):
        return False
    return entry["pid"] > 1 and _cmdline(entry["pid"]) == entry["cmdline"]


def stop_stale_rigs(tmp: Optional[str] = None) -> List[Dict[str, Any]]:
    """End the daemons of rigs whose test run died without stopping them; returns what it ended."""
    ended: List[Dict[str, Any]] = []
    for folder in glob.glob(os.path.join(tmp or tempfile.gettempdir(), RIG_PREFIX + "*")):
        try:
            with open(os.path.join(folder, PIDS_FILE)) as f:
                record = json.load(f)
        except (OSError, ValueError):
            continue  # not a rig that recorded itself
        if not isinstance(record, dict) or _running_as_recorded(record.get("owner")):
            continue  # its test run is still going
        daemons = record.get("daemons") if isinstance(record.get("daemons"), list) else []
        for entry in daemons:
            if _running_as_recorded(entry):
                SlurmRig._end(entry["pid"])
                ended.append(entry)
        shutil.rmtree(folder, ignore_errors=True)
    return ended


class SlurmRig:
    def __init__(self, cpus: int = 4) -> None:
        # Not pytest's tmp_path: munged refuses a socket whose folder others cannot traverse.
        self.dir = tempfile.mkdtemp(prefix=RIG_PREFIX)
        os.chmod(self.dir, 0o755)
        self.node = socket.gethostname()
        self.cpus = cpus
        self.conf = os.path.join(self.dir, "slurm.conf")
        self.munge_socket = os.path.join(self.dir, "munge.sock")
        self.env: Dict[str, str] = dict(os.environ, SLURM_CONF=self.conf)
        self._munged: Optional[subprocess.Popen] = None
        self._daemons: List[Dict[str, Any]] = []

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def start(self) -> "SlurmRig":
        stop_stale_rigs(os.path.dirname(self.dir))
        self._record()
        self._start_munged()
        self._remember("munged", self._munged.pid)
        self._write_conf()
        for daemon in ("slurmctld", "slurmd"):
            result = subprocess.run([_sbin(daemon), "-f", self.conf], capture_output=True, text=True, env=self.env, timeout=30)
            pid = self._wait_pid_file(self.path(daemon + ".pid")) if result.returncode == 0 else None
            if pid:  # it daemonized: its pid file names it
                self._remember(daemon, pid)
            if result.returncode != 0:
                self.stop()
                raise RuntimeError("%s did not start (%s): %s" % (daemon, result.returncode, result.stderr or self._log(daemon)))
        self.wait_node_state("idle", timeout=30)
        return self

    def _remember(self, name: str, pid: int) -> None:
        cmdline = _cmdline(pid)
        if cmdline:
            self._daemons.append({"name": name, "pid": pid, "cmdline": cmdline})
            self._record()

    def _record(self) -> None:
        """Who started this rig and its daemons, for the next rig if this test run is killed."""
        record = {"owner": {"pid": os.getpid(), "cmdline": _cmdline(os.getpid())}, "daemons": self._daemons}
        temp = self.path(PIDS_FILE + ".tmp")
        with open(temp, "w") as f:
            json.dump(record, f)
        os.replace(temp, self.path(PIDS_FILE))

    def _start_munged(self) -> None:
        key = self.path("munge.key")
        shutil.copyfile(MUNGE_KEY, key)
        os.chmod(key, 0o600)
        log = open(self.path("munged.out"), "ab")
        self._munged = subprocess.Popen(
            [_sbin("munged"), "-F", "--socket=" + self.munge_socket, "--key-file=" + key,
             "--log-file=" + self.path("munged.log"), "--pid-file=" + self.path("munged.pid"),
             "--seed-file=" + self.path("munged.seed")],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.munge_socket):
            if self._munged.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("munged did not start: " + open(self.path("munged.out")).read())
            time.sleep(0.05)

    def _write_conf(self) -> None:
        for sub in ("state", "spool"):
            os.makedirs(self.path(sub))
        lines = [
            "ClusterName=gantrytest", "SlurmctldHost=" + self.node, "SlurmUser=root", "SlurmdUser=root",
            "SlurmctldPort=%d" % _free_port(), "SlurmdPort=%d" % _free_port(),
            "AuthType=auth/munge", "CredType=cred/munge", "AuthInfo=socket=" + self.munge_socket,
            "StateSaveLocation=" + self.path("state"), "SlurmdSpoolDir=" + self.path("spool"),
            "SlurmctldPidFile=" + self.path("slurmctld.pid"), "SlurmdPidFile=" + self.path("slurmd.pid"),
            "SlurmctldLogFile=" + self.path("slurmctld.log"), "SlurmdLogFile=" + self.path("slurmd.log"),
            # No cgroups in containers and CI runners: track processes by parentage instead.
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "MpiDefault=none",
            "SchedulerType=sched/backfill", "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core",
            "JobCompType=jobcomp/none", "AccountingStorageType=accounting_storage/none",
            "ReturnToService=2", "KillWait=10", "MinJobAge=300",
            # More job slots than cores: test jobs are light, and a 2-core CI runner must still
            # run a 3-game plan at once.
            "SlurmdParameters=config_overrides",
            "NodeName=%s CPUs=%d RealMemory=8000 State=UNKNOWN" % (self.node, self.cpus),
            "PartitionName=debug Nodes=%s Default=YES MaxTime=INFINITE State=UP" % self.node,
            "",
        ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))

    def _log(self, daemon: str) -> str:
        try:
            with open(self.path(daemon + ".log")) as f:
                return f.read()[-3000:]
        except OSError:
            return "(no log)"

    def run(self, *argv: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        result = subprocess.run(list(argv), capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError("%s failed (%d): %s" % (" ".join(argv), result.returncode, result.stderr))
        return result

    def node_state(self) -> str:
        return self.run("sinfo", "-h", "-n", self.node, "-o", "%T").stdout.strip()

    def wait_node_state(self, wanted: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            seen = self.run("sinfo", "-h", "-n", self.node, "-o", "%T", check=False).stdout.strip()
            if seen.rstrip("*") == wanted:
                return
            time.sleep(0.2)
        raise AssertionError("node %s is %r, not %r, after %.0f s. slurmd log: %s" % (
            self.node, seen, wanted, timeout, self._log("slurmd")))

    def job_ids(self) -> List[str]:
        return self.run("squeue", "-h", "-o", "%i").stdout.split()

    def stop(self) -> None:
        # Jobs first: a job's slurmstepd outlives slurmd, so end them through SLURM while it runs.
        if self._pid_from(self.path("slurmctld.pid")):
            self.run("scancel", "--full", "--user=%d" % os.geteuid(), check=False)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and self.run("squeue", "-h", "-o", "%i", check=False).stdout.strip():
                time.sleep(0.2)
        for name in ("slurmd", "slurmctld"):
            pid = self._pid_from(self.path(name + ".pid"))
            if pid:
                self._end(pid)
        if self._munged and self._munged.poll() is None:
            self._munged.terminate()
            try:
                self._munged.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._munged.kill()
                self._munged.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    @classmethod
    def _wait_pid_file(cls, path: str, timeout: float = 10) -> Optional[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = cls._pid_from(path)
            if pid:
                return pid
            time.sleep(0.05)
        return None

    @staticmethod
    def _pid_from(path: str) -> Optional[int]:
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _end(pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def slurm():
    require_slurm()
    rig = SlurmRig().start()
    yield rig
    rig.stop()
