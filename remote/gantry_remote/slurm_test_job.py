"""The doctor's test job: a one-minute SLURM job that reports what a training job will find on a
compute node (its Python, its GPUs and driver, whether Gantry's folder is the same one the login
node sees), streamed line by line as it arrives.

Nothing long-lived stays on the login node: the doctor process polls the job's output file by
offset and `squeue` once a second, and gives up (cancelling the job) after a bounded wait, with
SLURM's own reason when the job never left the queue."""
import os
import secrets
import time
from typing import Any, Callable, Dict, List

from . import slurm_cmd
from .slurm_batch import resource_lines

DEFAULT_TIMEOUT_S = 90.0
_POLL_S = 1.0
# Output of the job comes from a compute node: keep what is read back small and plain.
_MAX_OUTPUT_BYTES = 64 * 1024
_MAX_LINE = 300
_MAX_GPUS = 64

# The GPU's name goes last: a name may itself contain ", ".
_SCRIPT = """#!/bin/bash
# Gantry's doctor: what a training job finds on this compute node.
echo "node=$(hostname)"
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import sys; print("python=" + sys.version.split()[0])'
else
  echo "python=missing"
fi
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpus=none"
elif out=$(nvidia-smi --query-gpu=driver_version,memory.total,name --format=csv,noheader 2>&1); then
  printf '%s\\n' "$out" | head -n 64 | sed 's/^/gpu=/'
else
  echo "gpu_error=$(printf '%s' "$out" | head -n 1)"
fi
if [ "$(cat "$1" 2>/dev/null)" = "$2" ]; then echo "shared=yes"; else echo "shared=no"; fi
"""

# What a PENDING reason means for someone about to train (squeue's %r; the common ones).
_REASONS = {
    "Resources": "the nodes it could use are busy; it starts when one frees up",
    "Priority": "jobs with a higher priority are ahead of it",
    "PartitionDown": "the partition is down; ask the cluster's admins",
    "PartitionInactive": "the partition is inactive; ask the cluster's admins",
    "ReqNodeNotAvail": "the nodes it needs are down, drained or reserved",
    "BeginTime": "SLURM holds it until its begin time",
    "JobHeldUser": "it is held; `scontrol release` lets it run",
    "JobHeldAdmin": "an admin holds it",
    "QOSMaxJobsPerUserLimit": "you already run as many jobs as your QoS allows",
    "AssocGrpGRES": "your account's GPU limit is used up",
    "AssocGrpCpuLimit": "your account's CPU limit is used up",
    "InvalidAccount": "the account is not valid for you; fix it in the instance's SLURM settings",
    "InvalidQOS": "the QoS is not valid for you; fix it in the instance's SLURM settings",
}


def explain_reason(reason: str) -> str:
    # squeue adds details after the reason's name: "ReqNodeNotAvail, UnavailableNodes:n[1-4]".
    meaning = _REASONS.get(reason.split(",")[0].strip())
    return "%s: %s" % (reason, meaning) if meaning else reason


class OutputTail:
    """New complete lines of a file that another machine appends to, read by offset."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0
        self._partial = b""
        self.lines: List[str] = []

    def read(self, final: bool = False) -> List[str]:
        fresh: List[str] = []
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read(max(0, _MAX_OUTPUT_BYTES - self.offset))
        except OSError:
            chunk = b""
        self.offset += len(chunk)
        data = self._partial + chunk
        *complete, self._partial = data.split(b"\n")
        if final and self._partial:
            complete.append(self._partial)
            self._partial = b""
        for raw in complete:
            line = "".join(c for c in raw.decode("utf-8", "replace") if c.isprintable())[:_MAX_LINE]
            fresh.append(line)
        self.lines.extend(fresh)
        return fresh


def facts(lines: List[str]) -> Dict[str, Any]:
    """The job's key=value lines → the report's fields (the rest is ignored)."""
    pairs = [line.split("=", 1) for line in lines if "=" in line]
    single = {k: v.strip() for k, v in pairs if k in ("node", "python", "gpus", "gpu_error", "shared")}
    gpus = [v.strip() for k, v in pairs if k == "gpu"][:_MAX_GPUS]
    return {"node": single.get("node"), "python": single.get("python"), "gpus": gpus,
            "gpu_error": single.get("gpu_error"), "shared": single.get("shared") == "yes"}


def run_test_job(root: str, options: Dict[str, Any], say: Callable[[str], None],
                 timeout: float = DEFAULT_TIMEOUT_S) -> Dict[str, Any]:
    """Submit the test job, stream its state and output through `say`, and report what it found.
    `options` is the run's validated scheduler block: the job asks for what each game's job asks
    for (its GPUs, account, QoS, …), but for one minute."""
    folder = os.path.join(root, "doctor")
    os.makedirs(folder, exist_ok=True)
    stamp = time.time_ns()
    script, probe, out_path = (os.path.join(folder, "slurm-test-%d.%s" % (stamp, ext)) for ext in ("sh", "probe", "out"))
    token = secrets.token_hex(16)
    with open(probe, "w") as f:
        f.write(token)
    with open(script, "w") as f:
        f.write(_SCRIPT)
    resources = resource_lines(dict(options, time_limit_min=None))
    argv = ["sbatch", "--parsable", "--job-name=gantry-doctor", "--time=1", "--ntasks=1", "--output=" + out_path]
    code, out = slurm_cmd.probe(argv + resources + [script, probe, token])
    if code != 0:
        _remove(script, probe)
        return {"ok": False, "error": "sbatch refused the test job: %s" % out[:400]}
    job = out.split(";")[0].strip()
    say("Submitted test job %s%s; its output follows as it arrives." % (job, " with " + " ".join(resources) if resources else ""))
    tail = OutputTail(out_path)
    seen, state, reason = "", "PENDING", ""
    deadline = time.monotonic() + timeout
    try:
        while True:
            # SLURM's state first, then the output: "RUNNING on n1" comes before the job's lines.
            code, row = slurm_cmd.probe(["squeue", "-h", "-j", job, "-o", "%T|%r|%N"], timeout=10)
            if code == 0 and row:
                state, reason, node = (row.splitlines()[0].split("|") + ["", ""])[:3]
                now = "%s%s" % (state, " on " + node if state == "RUNNING" and node else
                                " (%s)" % explain_reason(reason) if reason and reason != "None" else "")
                if now != seen:
                    say("job %s: %s" % (job, now))
                    seen = now
            for line in tail.read():
                say(line)
            if code == 0 and not row:
                break  # left the queue
            if time.monotonic() >= deadline:
                slurm_cmd.probe(["scancel", job])
                if state == "PENDING":
                    return {"ok": False, "job_id": job, "state": state, "reason": reason,
                            "error": "the test job was still PENDING after %.0f s (reason %s), so it was cancelled. "
                                     "Check again when the cluster is less busy, or pick another partition" % (
                                         timeout, explain_reason(reason) if reason else "unknown")}
                return {"ok": False, "job_id": job, "state": state,
                        "error": "the test job was still %s after %.0f s, so it was cancelled; its output so far is "
                                 "above" % (state, timeout)}
            time.sleep(_POLL_S)
        for line in tail.read(final=True):
            say(line)
        if not os.path.exists(out_path):
            return {"ok": False, "job_id": job, "error": "the job ran but its output %s is not visible here: Gantry's "
                    "folder is not on a filesystem the compute nodes share. Pick a folder on the shared filesystem "
                    "(home, /scratch, …) in the instance settings" % out_path}
        say("job %s finished." % job)
        _remove(out_path)  # its lines are in the report and were streamed
        return dict(facts(tail.lines), ok=True, job_id=job)
    finally:
        _remove(script, probe)


def _remove(*paths: str) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass
