"""GPU sampling through nvidia-smi (the one tool every NVIDIA host has, no Python bindings)."""
import os
import shutil
import subprocess
from typing import Any, Dict, List, Optional

QUERY = "index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw"


class GpuUnavailable(Exception):
    pass


def nvidia_smi_path() -> Optional[str]:
    # Tests (and odd installs) point GANTRY_NVIDIA_SMI at a specific executable.
    override = os.environ.get("GANTRY_NVIDIA_SMI")
    if override:
        return override if os.access(override, os.X_OK) else None
    return shutil.which("nvidia-smi")


def _number(text: str) -> Optional[float]:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        return None  # "[N/A]", "[Not Supported]" on some boards
    return int(value) if value.is_integer() else value


def parse_query_csv(text: str) -> List[Dict[str, Any]]:
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 7:
            continue
        # A GPU name may itself contain commas; the numeric fields are the last five.
        index, name, rest = parts[0], ", ".join(parts[1:-5]), parts[-5:]
        gpus.append({
            "index": int(index) if index.isdigit() else index,
            "name": name,
            "util": _number(rest[0]),
            "mem_used": _number(rest[1]),
            "mem_total": _number(rest[2]),
            "temp": _number(rest[3]),
            "power": _number(rest[4]),
        })
    return gpus


def sample(timeout_s: float = 10.0) -> List[Dict[str, Any]]:
    exe = nvidia_smi_path()
    if not exe:
        raise GpuUnavailable("nvidia-smi not found; no NVIDIA GPU metrics on this host")
    try:
        proc = subprocess.run(
            [exe, "--query-gpu=" + QUERY, "--format=csv,noheader,nounits"],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise GpuUnavailable("nvidia-smi failed to run: %s" % e) from e
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()[-300:]
        raise GpuUnavailable("nvidia-smi exited with %d: %s" % (proc.returncode, detail))
    gpus = parse_query_csv(proc.stdout.decode("utf-8", "replace"))
    if not gpus:
        raise GpuUnavailable("nvidia-smi listed no GPUs")
    return gpus
