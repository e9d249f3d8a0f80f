"""A real OpenSSH server on 127.0.0.1 for tests: temp host/client keys, temp config, root login.

Usage: the `sshd` fixture yields an SshdRig; `rig.ssh_argv("command")` is a complete argv for
/usr/bin/ssh. Without sshd installed the tests skip (or fail loudly when CI=true).
"""
import os
import shutil
import socket
import subprocess
import time
from typing import List

import pytest

SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SshdRig:
    def __init__(self, directory: str, extra_config: List[str] = ()) -> None:
        self.dir = directory
        self.extra_config = list(extra_config)  # sshd_config lines, e.g. "SetEnv SLURM_CONF=…"
        self.port = _free_port()
        self.host_key = os.path.join(directory, "host_ed25519")
        self.client_key = os.path.join(directory, "client_ed25519")
        self.known_hosts = os.path.join(directory, "known_hosts")
        self.config = os.path.join(directory, "sshd_config")
        self.log = os.path.join(directory, "sshd.log")
        self.proc = None

    def start(self) -> "SshdRig":
        for key in (self.host_key, self.client_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        authorized = os.path.join(self.dir, "authorized_keys")
        shutil.copy(self.client_key + ".pub", authorized)
        with open(self.known_hosts, "w") as f:
            f.write("[127.0.0.1]:%d %s" % (self.port, open(self.host_key + ".pub").read()))
        with open(self.config, "w") as f:
            f.write("\n".join([
                "ListenAddress 127.0.0.1", "Port %d" % self.port, "HostKey %s" % self.host_key,
                "PidFile %s" % os.path.join(self.dir, "sshd.pid"), "AuthorizedKeysFile %s" % authorized,
                "StrictModes no", "UsePAM no", "PermitRootLogin prohibit-password", "PasswordAuthentication no",
                "ClientAliveInterval 5", "ClientAliveCountMax 2", "LogLevel VERBOSE",
            ] + self.extra_config + [""]))
        os.makedirs("/run/sshd", exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config], stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited: " + open(self.log).read())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen on port %d" % self.port)

    def ssh_argv(self, command: str, tty: bool = False) -> List[str]:
        options = ["-i", self.client_key, "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + self.known_hosts,
                   "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-p", str(self.port)]
        return [SSH] + (["-tt"] if tty else []) + options + ["root@127.0.0.1", command]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def require_sshd() -> None:
    if os.access(SSHD, os.X_OK) and os.access(SSH, os.X_OK):
        return
    message = "OpenSSH server/client missing (%s, %s): apt-get install openssh-server openssh-client" % (SSHD, SSH)
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def sshd(tmp_path):
    require_sshd()
    directory = tmp_path / "sshd"
    directory.mkdir()
    rig = SshdRig(str(directory)).start()
    yield rig
    rig.stop()
