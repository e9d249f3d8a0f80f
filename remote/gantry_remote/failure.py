"""Why did a trainer stop? A short cause for the UI, read from the exit status and log tail."""
import os
import re
import signal
from typing import Optional, Tuple

_OOM = re.compile(r"CUDA out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED|out of memory", re.I)
# A fault of the GPU or its driver: restarting on the same GPU will not help (restart_rules "cuda").
# Checked after OOM, since "CUDA error: out of memory" is an OOM.
_CUDA = re.compile(r"CUDA error|cudaError|CUDA driver|NVIDIA driver|device-side assert|illegal memory access|"
                   r"CUBLAS_STATUS_EXECUTION_FAILED|CUDNN_STATUS_EXECUTION_FAILED|uncorrectable ECC|\bXid\b", re.I)
_NAN = re.compile(r"\bnan\b|non-finite|not finite", re.I)
_TAIL_BYTES = 16 * 1024


def log_tail(path: str, max_bytes: int = _TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _last_meaningful_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()[:300]
    return ""


def classify(returncode: Optional[int], log_text: str) -> Tuple[str, str]:
    """(cause, detail). cause is one of crash, oom, cuda, nan, signal, other (PROTOCOL.md)."""
    # Only the end of the log matters: an OOM that was recovered from long ago is not the cause.
    recent = log_text[-4096:]
    last = _last_meaningful_line(log_text)
    if _OOM.search(recent):
        return "oom", last or "CUDA out of memory"
    if _CUDA.search(recent):
        return "cuda", last or "CUDA error"
    if _NAN.search(recent):
        return "nan", last or "training produced NaN values"
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "signal %d" % -returncode
        return "signal", "killed by %s" % name + (" (last log line: %s)" % last if last else "")
    if returncode is None:
        return "crash", "trainer disappeared while the supervisor was not watching it" + (
            " (last log line: %s)" % last if last else "")
    if returncode == 0:
        return "other", "trainer exited 0 without completed.json" + (" (last log line: %s)" % last if last else "")
    return "crash", "exit code %d" % returncode + (": %s" % last if last else "")
