"""`doctor --slurm`: can this login node run a plan on its SLURM cluster? SLURM's version, the
partitions this user can submit to and their GRES, whether accounting is on, whether Gantry's
folder is on a filesystem the compute nodes share, and a short test job that proves it (the job
writes into that folder and reports its node's Python and GPUs, streamed as it arrives: see
slurm_test_job.py). Verdicts say what to do."""
import os
from typing import Any, Callable, Dict, List, Optional

from .slurm_cmd import probe
from .slurm_test_job import DEFAULT_TIMEOUT_S, run_test_job

_SHARED_FS = ("nfs", "nfs4", "lustre", "gpfs", "beegfs", "cephfs", "ceph", "panfs", "wekafs", "fuse.glusterfs",
              "cifs", "smb2", "9p", "fuse.sshfs", "autofs")


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
    code, out = probe(["stat", "-f", "-c", "%T", path], timeout=10)
    return out.strip() if code == 0 and out.strip() else None


def slurm_report(root: str, options: Dict[str, Any], test_job: bool = True,
                 say: Callable[[str], None] = lambda line: None, test_job_timeout: float = DEFAULT_TIMEOUT_S) -> Dict[str, Any]:
    report: Dict[str, Any] = {}
    code, version = probe(["sinfo", "--version"])
    report["version"] = version if code == 0 else None
    if code != 0:
        report["error"] = version
        return report
    code, config = probe(["scontrol", "show", "config"])
    conf = _config(config) if code == 0 else {}
    report["accounting"] = conf.get("AccountingStorageType", "accounting_storage/none") not in ("accounting_storage/none", "(null)")
    kill_wait = conf.get("KillWait", "").split()[:1]
    report["kill_wait_s"] = int(kill_wait[0]) if kill_wait and kill_wait[0].isdigit() else None
    code, parts = probe(["sinfo", "-h", "-o", "%P|%a|%G|%D"])
    report["partitions"] = _partitions(parts) if code == 0 else []
    os.makedirs(root, exist_ok=True)
    report["filesystem"] = filesystem_type(root)
    if test_job:
        report["test_job"] = run_test_job(root, options, say, test_job_timeout)
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
    job = report.get("test_job")
    shared_by_test = bool(job and job.get("ok") and job.get("shared"))
    if fs and fs not in _SHARED_FS and not shared_by_test:
        add("warning", "Gantry's folder is on a %s filesystem, which compute nodes usually cannot see. Pick a folder on the "
            "cluster's shared filesystem (home, /scratch, …) in the instance settings, or run the check with its test job, "
            "which shows whether the compute nodes see it." % fs)
    if job is not None:
        if job.get("ok"):
            add("ok", "Test job %s ran on %s with Python %s%s, and wrote into Gantry's folder." % (
                job["job_id"], job.get("node"), job.get("python"), _gpu_text(job)))
            if not job.get("shared"):
                add("error", "The compute node does not see the file the login node wrote into Gantry's folder: the "
                    "folder is not shared between them. Pick a folder on the cluster's shared filesystem in the instance settings.")
            if job.get("gpu_error"):
                add("warning", "nvidia-smi failed on the compute node (%s): its driver may be broken; tell the "
                    "cluster's admins." % job["gpu_error"])
            if job.get("python") == "missing":
                add("error", "The compute node has no python3 on PATH: load the site's Python module in the job "
                    "(an extra #SBATCH line cannot do it; ask the admins) before training.")
        else:
            add("error", "Test job: %s." % job["error"])
    return out


def _gpu_text(job: Dict[str, Any]) -> str:
    gpus = job.get("gpus") or []
    if not gpus:
        return " (no GPU: the job asked for none, or the node has none)"
    fields = gpus[0].split(", ", 2)  # driver_version, memory.total, name (slurm_test_job's query)
    if len(fields) < 3:
        return " and %d GPU(s): %s" % (len(gpus), gpus[0])
    return " and %d GPU(s): %s, %s (driver %s)" % (len(gpus), fields[2], fields[1], fields[0])
