"""`doctor --json`: can this host train? Facts plus a verdict list that says what to do.

Stdlib only and every probe in a subprocess with a timeout, so a broken CUDA install or a
hanging driver shows up as a finding instead of hanging the desktop's pre-flight check.
"""
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from typing import Any, Dict, List, Optional

from . import gpu
from .paths import venv_python

PYTHON_NAMES = ("python3", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
ENVPOOL_MAX_PYTHON = (3, 11)  # EnvPool publishes wheels only up to CPython 3.11
MIN_FREE_GB = 20.0
ALE_MIN_VERSION = (0, 12, 1)  # the C++ vector env with working partial resets; 0.12.0 was yanked
# Raw env steps/s (agent steps, 4 frames each) one core gives ale-py's vector env on Breakout,
# random actions: 15,078/s over 16 cores at 256 envs on the H200 machine (bench/bench_atari.py,
# BENCHMARKS.md "Atari vector env"). Training runs at about half that per core (PPO on 8 cores:
# 7,300-8,800 steps/s); the policy and the update share the cores.
ATARI_STEPS_PER_CORE = 940

_IMPORT_PROBE = r"""
import json, importlib, sys
out = {"python": sys.version.split()[0], "executable": sys.executable}
for name, module in (("torch", "torch"), ("envpool", "envpool"), ("ale_py", "ale_py.vector_env")):
    try:
        importlib.import_module(module)
        mod = importlib.import_module(name)
        out[name] = {"ok": True, "version": getattr(mod, "__version__", None)}
    except Exception as e:
        out[name] = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
try:
    import torch
    out["torch"]["cuda_available"] = bool(torch.cuda.is_available())
    out["torch"]["cuda_version"] = torch.version.cuda
except Exception:
    pass
print(json.dumps(out))
"""


def _run(argv: List[str], timeout: float) -> Optional[str]:
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return (proc.stdout or proc.stderr).decode("utf-8", "replace")


def _glibc() -> Optional[str]:
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
    except (ValueError, OSError, AttributeError):
        value = None
    if value:
        return value.split()[-1]
    lib, version = platform.libc_ver()
    return version or None


def pythons() -> List[Dict[str, Any]]:
    found = []
    for name in PYTHON_NAMES:
        path = shutil.which(name)
        if not path:
            continue
        text = _run([path, "--version"], 10) or ""
        m = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
        if m:  # pyenv-style shims for uninstalled versions exist on PATH but do not run
            found.append({"name": name, "path": path, "version": m.group(0)})
    return found


def gpus() -> Dict[str, Any]:
    exe = gpu.nvidia_smi_path()
    if not exe:
        return {"nvidia_smi": None, "gpus": [], "driver": None, "cuda": None}
    listing = _run([exe, "--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader,nounits"], 20)
    header = _run([exe], 20) or ""
    cuda = re.search(r"CUDA Version:\s*([\d.]+)", header)
    found, driver = [], None
    for line in (listing or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 4:
            continue
        driver = parts[-1]
        try:
            mem = int(float(parts[-2]))
        except ValueError:
            mem = None
        found.append({"index": int(parts[0]) if parts[0].isdigit() else parts[0],
                      "name": ", ".join(parts[1:-2]), "memory_mib": mem})
    return {"nvidia_smi": exe, "gpus": found, "driver": driver, "cuda": cuda.group(1) if cuda else None,
            "error": None if listing is not None else "nvidia-smi failed or timed out"}


def import_probe(python: str, timeout: float = 120) -> Dict[str, Any]:
    try:
        proc = subprocess.run([python, "-c", _IMPORT_PROBE], stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "importing torch/envpool/ale_py took over %d s" % timeout}
    except OSError as e:
        return {"error": "cannot run %s: %s" % (python, e)}
    try:
        return json.loads(proc.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "probe failed: %s" % proc.stderr.decode("utf-8", "replace")[-400:]}


def _version_tuple(text: Optional[str]) -> Optional[tuple]:
    m = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def _version_at_least(text: Optional[str], minimum: tuple) -> bool:
    parts = re.findall(r"\d+", text or "")[:len(minimum)]
    return len(parts) == len(minimum) and tuple(int(p) for p in parts) >= minimum


def atari_backends(imports: Dict[str, Any]) -> List[str]:
    """The backends this venv can train with (the launch picks among these)."""
    found = []
    if imports.get("ale_py", {}).get("ok") and _version_at_least(imports["ale_py"].get("version"), ALE_MIN_VERSION):
        found.append("ale")
    if imports.get("envpool", {}).get("ok"):
        found.append("envpool")
    return found + ["builtin"]


def cpu_report() -> Dict[str, Any]:
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return {"cores": os.cpu_count(), "allowed": allowed,
            "atari_env_steps_per_s": allowed * ATARI_STEPS_PER_CORE,
            "atari_basis": "%d raw Breakout steps/s per core (ale-py vector env, bench/bench_atari.py); "
                           "PPO training runs at about half that" % ATARI_STEPS_PER_CORE}


def verdicts(report: Dict[str, Any]) -> List[Dict[str, str]]:
    out: List[Dict[str, str]] = []

    def add(level: str, message: str) -> None:
        out.append({"level": level, "message": message})

    if report["os"] != "Linux":
        add("error", "Training hosts must run Linux (found %s). Use a Linux GPU instance." % report["os"])
    if report["arch"] not in ("x86_64", "amd64"):
        add("warning", "CPU architecture %s: EnvPool and most CUDA wheels exist only for x86_64; use backend ale or builtin."
            % report["arch"])
    if report["disk"]["free_gb"] < MIN_FREE_GB:
        add("warning", "Only %.1f GB free under %s; checkpoints and models need ~%d GB. Free space or attach a bigger disk."
            % (report["disk"]["free_gb"], report["disk"]["path"], MIN_FREE_GB))
    g = report["gpu"]
    if not g["nvidia_smi"]:
        add("warning", "No nvidia-smi: no NVIDIA GPU or driver found. Training will run on CPU (slow); "
            "install the NVIDIA driver or pick a GPU instance.")
    elif not g["gpus"]:
        add("error", "nvidia-smi is present but lists no GPUs (%s). Check the driver with `nvidia-smi` and reboot if it "
            "was just installed." % (g.get("error") or "empty list"))
    probe = report["imports"]
    py = _version_tuple(probe.get("python"))
    # Before the first Set up, missing packages are what Set up is about to install: pending, not errors.
    set_up = report.get("set_up", True)
    if probe.get("error"):
        add("error", "Could not check Python packages with %s: %s. Click Set up again." % (report["python_checked"], probe["error"]))
        return _with_ready(out)
    torch = probe.get("torch", {})
    if not torch.get("ok"):
        if set_up:
            add("error", "PyTorch is not importable in Gantry's environment (%s). Click Set up again to reinstall it." % torch.get("error"))
        else:
            add("pending", "PyTorch: not installed yet. Set up installs it (or reuses this host's).")
    elif g["gpus"] and not torch.get("cuda_available"):
        add("error", "PyTorch %s cannot use the GPU (CUDA build %s). Reinstall a CUDA build of torch matching driver CUDA %s."
            % (torch.get("version"), torch.get("cuda_version"), g.get("cuda")))
    envpool_ok = probe.get("envpool", {}).get("ok")
    ale = probe.get("ale_py", {})
    if ale.get("ok") and not _version_at_least(ale.get("version"), ALE_MIN_VERSION):
        add("warning", "ale-py %s is too old for the ale backend (its vector env needs 0.12.1 or newer). "
            "Click Set up again (it installs ale-py>=0.12.1)." % ale.get("version"))
    envpool_why = ("EnvPool has wheels only for CPython <= 3.11 and this environment uses Python %s; "
                   "use backend \"ale\" in the plan, or recreate the environment with python3.11%s"
                   % (probe.get("python"), " (found on this host)" if any(p["name"] == "python3.11" for p in report["pythons"]) else "")
                   if py and py > ENVPOOL_MAX_PYTHON else "EnvPool is not installed")
    if atari_backends(probe) == ["builtin"]:
        if set_up:
            add("warning", "No Atari backend (ale-py's vector env or EnvPool) is importable: only the built-in games "
                "can train. Click Set up again to install ale-py.")
        else:
            add("pending", "Atari backends (EnvPool or ale-py): not installed yet. Set up installs them.")
    elif not envpool_ok:
        add("info", "Atari games train with ale-py; %s." % envpool_why)
    return _with_ready(out)


def _with_ready(out: List[Dict[str, str]]) -> List[Dict[str, str]]:
    if not [v for v in out if v["level"] in ("error", "warning", "pending")]:
        out.append({"level": "ok", "message": "This host is ready to train."})
    return out


def doctor(root: str) -> Dict[str, Any]:
    python = venv_python(root) or sys.executable
    disk_path = root if os.path.isdir(root) else os.path.expanduser("~")
    usage = shutil.disk_usage(disk_path)
    report: Dict[str, Any] = {
        "os": platform.system(),
        "os_release": platform.release(),
        "arch": platform.machine(),
        "glibc": _glibc(),
        "pythons": pythons(),
        "disk": {"path": disk_path, "free_gb": round(usage.free / 1e9, 1), "total_gb": round(usage.total / 1e9, 1)},
        "gpu": gpus(),
        "cpu": cpu_report(),
        "python_checked": python,
        "set_up": venv_python(root) is not None,
        "imports": import_probe(python, float(os.environ.get("GANTRY_DOCTOR_IMPORT_TIMEOUT_S", "120"))),
    }
    report["atari_backends"] = atari_backends(report["imports"])
    report["verdicts"] = verdicts(report)
    return report
