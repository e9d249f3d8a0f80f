"""Create the trainer's CUDA context while torch imports, not after.

On a GPU host `import torch` takes 2.4-4 s (the CUDA build loading its libraries), and only then
would `torch.cuda.init()` create the device's context, another ~0.3 s before the first kernel.
torch works in the device's *primary* context, which the driver keeps once anyone in the process
has retained it. So a thread that asks the driver itself for that context (libcuda through ctypes:
no torch needed, and ctypes lets go of the GIL during the call) before the import starts has it
ready by the time torch looks, and the trainer's first metrics line comes that much sooner
(BENCHMARKS.md, issue #16 start-up).

Nothing here decides anything: the context is the one torch would create for the same device, with
the same environment (CUDA_VISIBLE_DEVICES, the MPS pipe). Whatever fails is only noted; torch then
meets the same problem and reports it its own way.
"""
import ctypes
import threading
import time
from typing import List, Optional


def device_ordinal(argv: List[str]) -> Optional[int]:
    """The CUDA device the trainer's --device will use (auto, cuda, cuda:N), or None for a CPU run.
    The last --device wins, as in argparse. auto may still end up on the CPU: then nothing is found."""
    requested = "auto"
    for i, arg in enumerate(argv):
        if arg == "--device" and i + 1 < len(argv):
            requested = argv[i + 1]
        elif arg.startswith("--device="):
            requested = arg.split("=", 1)[1]
    if requested in ("auto", "cuda"):
        return 0
    if requested.startswith("cuda:") and requested[5:].isdigit():
        return int(requested[5:])
    return None


class EarlyContext:
    """Retains device `ordinal`'s primary context on a daemon thread, started at construction."""

    def __init__(self, ordinal: int, library: str = "libcuda.so.1"):
        self.ordinal = ordinal
        self.library = library
        self.seconds: Optional[float] = None  # how long the driver took, once it succeeded
        self.problem: Optional[str] = None
        self._thread = threading.Thread(target=self._run, name="cuda-early-context", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            driver = ctypes.CDLL(self.library)
        except OSError as exc:
            self.problem = "no CUDA driver here (%s)" % exc
            return
        device, context = ctypes.c_int(), ctypes.c_void_p()
        for call, args in (("cuInit", (0,)), ("cuDeviceGet", (ctypes.byref(device), self.ordinal)),
                           ("cuDevicePrimaryCtxRetain", (ctypes.byref(context), device))):
            try:
                status = getattr(driver, call)(*args)
            except AttributeError:
                self.problem = "%s has no %s" % (self.library, call)
                return
            if status != 0:
                self.problem = "%s returned CUDA error %d" % (call, status)
                return
        self.seconds = time.perf_counter() - started

    def outcome(self, wait_s: float) -> str:
        """One line for train.log: what the early start did (waiting at most wait_s for it)."""
        self._thread.join(wait_s)
        if self._thread.is_alive():
            return "CUDA context: the early start is still waiting on the driver; torch goes on by itself"
        if self.problem:
            return "CUDA context: not created early (%s)" % self.problem
        return "CUDA context: created during the imports, in parallel (%.2f s)" % self.seconds


def start(argv: List[str]) -> Optional[EarlyContext]:
    """Start the early context for a `train` command line, unless it trains on the CPU."""
    ordinal = device_ordinal(argv)
    return EarlyContext(ordinal) if ordinal is not None else None
