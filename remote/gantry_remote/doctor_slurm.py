"""`doctor --slurm`: can this login node run a plan on its SLURM cluster? SLURM's version, the
partitions this user can submit to and their GRES, whether accounting is on, whether Gantry's
folder is on a filesystem the compute nodes share, and a short test job that proves it (the job
writes into that folder and reports its node's Python and GPUs). Verdicts say what to do."""
import os
import subprocess
import time
from typing import Any, Dict, List, Optional

_SHARED_FS = ("nfs", "nfs4", "lustre", "gpfs", "beegfs", "cephfs", "ceph", "panfs", "wekafs", "fuse.glusterfs",
              "cifs", "smb2", "9p", "fuse.sshfs", "autofs")
_TEST_JOB_TIMEOUT_S = 90.0


def _run(argv: List[str], timeout: float = 20) -> "tuple[int, str]":
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return 127, "%s: not found" % argv[0]
    except subprocess.TimeoutExpired:
        return 124, "%s did not answer within %.0f s" % (argv[0], timeout)
    return proc.returncode, (proc.stdout if proc.returncode == 0 else (proc.stderr or proc.stdout)).strip()


def _config(text: str) -> Dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _partitions(text: str) -> List[Dict[str, Any]]:
    rows = []
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) != 4:
            continue
        name, avail, gres, nodes = parts
        rows.append({"name": name.rstrip("*"), "default": name.endswith("*"), "up": avail == "up",
                     "gres": "" if gres == "(null)" else gres, "nodes": int(nodes) if nodes.isdigit() else None})
    return rows


def filesystem_type(path: str) -> Optional[str]:
    code, out = _run(["stat", "-f", "-c", "%T", path], timeout=10)
    return out.strip() if code == 0 and out.strip() else None


def test_job(root: str, partition: Optional[str], timeout: float = _TEST_JOB_TIMEOUT_S) -> Dict[str, Any]:
    """Submit a one-minute job that writes into `root` and wait (bounded) for its output here."""
    folder = os.path.join(root, "doctor")
    os.makedirs(folder, exist_ok=True)
    out_path = os.path.join(folder, "slurm-test-%d.out" % time.time_ns())
    script = ("echo node=$(hostname); python3 -c 'import sys; print(\"python=\" + sys.version.split()[0])' "
              "|| echo python=missing; (nvidia-smi -L 2>/dev/null || echo gpus=none) | head -n 8")
    argv = ["sbatch", "--parsable", "--job-name=gantry-doctor", "--time=1", "--ntasks=1", "--output=" + out_path, "--wrap=" + script]
    if partition:
        argv.insert(2, "--partition=" + partition)
    code, out = _run(argv)
    if code != 0:
        return {"ok": False, "error": "sbatch refused the test job: %s" % out[:400]}
    job = out.split(";")[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, state = _run(["squeue", "-h", "-j", job, "-o", "%T|%r"], timeout=10)
        if code == 0 and not state:
            break  # left the queue
        time.sleep(1)
    else:
        _run(["scancel", job])
        reason = state.split("|")[-1] if state else "unknown"
        return {"ok": False, "job_id": job,
                "error": "the test job was still waiting after %.0f s (reason: %s); cancelled it" % (timeout, reason)}
    try:
        with open(out_path) as f:
            lines = f.read().splitlines()
    except OSError:
        return {"ok": False, "job_id": job, "error": "the job ran but its output %s is not visible here: the folder is not shared "
                "with the compute nodes" % out_path}
    facts = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("GPU"))
    return {"ok": True, "job_id": job, "node": facts.get("node"), "python": facts.get("python"),
            "gpus": [line for line in lines if line.startswith("GPU ")]}


def slurm_report(root: str, partition: Optional[str] = None, run_test_job: bool = True) -> Dict[str, Any]:
    report: Dict[str, Any] = {}
    code, version = _run(["sinfo", "--version"])
    report["version"] = version if code == 0 else None
    if code != 0:
        report["error"] = version
        return report
    code, config = _run(["scontrol", "show", "config"])
    conf = _config(config) if code == 0 else {}
    report["accounting"] = conf.get("AccountingStorageType", "accounting_storage/none") not in ("accounting_storage/none", "(null)")
    kill_wait = conf.get("KillWait", "").split()[:1]
    report["kill_wait_s"] = int(kill_wait[0]) if kill_wait and kill_wait[0].isdigit() else None
    code, parts = _run(["sinfo", "-h", "-o", "%P|%a|%G|%D"])
    report["partitions"] = _partitions(parts) if code == 0 else []
    os.makedirs(root, exist_ok=True)
    report["filesystem"] = filesystem_type(root)
    if run_test_job:
        report["test_job"] = test_job(root, partition)
    return report


def slurm_verdicts(report: Dict[str, Any], partition: Optional[str]) -> List[Dict[str, str]]:
    out: List[Dict[str, str]] = []

    def add(level: str, message: str) -> None:
        out.append({"level": level, "message": message})

    if report.get("version") is None:
        add("error", "SLURM's commands do not work on this host (%s). Connect to the cluster's login node, where "
            "sinfo and sbatch work." % report.get("error"))
        return out
    add("info", "%s; accounting %s%s." % (report["version"], "on (sacct reports finished jobs)" if report["accounting"] else
        "off (finished jobs are read from scontrol until SLURM forgets them)",
        "; KillWait %d s (trainers must checkpoint within it)" % report["kill_wait_s"] if report.get("kill_wait_s") else ""))
    parts = report.get("partitions") or []
    usable = [p for p in parts if p["up"]]
    if not usable:
        add("error", "No partition you can submit to is up (sinfo lists %s). Ask the cluster's admins." % (
            ", ".join(p["name"] for p in parts) or "none"))
    else:
        add("info", "Partitions: %s." % "; ".join("%s%s (%s)" % (p["name"], " default" if p["default"] else "", p["gres"] or "no GRES")
                                                  for p in usable))
    if partition and partition not in [p["name"] for p in parts]:
        add("error", "Partition %s is not on this cluster (partitions: %s). Fix it in the instance's SLURM settings." % (
            partition, ", ".join(p["name"] for p in parts) or "none"))
    fs = report.get("filesystem")
    if fs and fs not in _SHARED_FS:
        add("warning", "Gantry's folder is on a %s filesystem, which compute nodes usually cannot see. Pick a folder on the "
            "cluster's shared filesystem (home, /scratch, …) in the instance settings, unless the test job below worked." % fs)
    job = report.get("test_job")
    if job is not None:
        if job.get("ok"):
            add("ok", "Test job %s ran on %s with Python %s%s, and wrote into Gantry's folder." % (
                job["job_id"], job.get("node"), job.get("python"), " and %d GPU(s)" % len(job["gpus"]) if job.get("gpus") else " (no GPU)"))
            if job.get("python") == "missing":
                add("error", "The compute node has no python3 on PATH: load the site's Python module in the job "
                    "(an extra #SBATCH line cannot do it; ask the admins) before training.")
        else:
            add("error", "Test job: %s." % job["error"])
    return out
