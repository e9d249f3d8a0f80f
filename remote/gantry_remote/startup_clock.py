"""Where a trainer's start-up goes: seconds from the process's own start to each phase.

The supervisor records a game's start just before it spawns the trainer; the user sees the first
metrics line. Everything in between (the interpreter, imports, CUDA, the envs, the first rollout
and the first update, each split where one-time costs hide) is start-up, and train.log gets one
line that splits it into phases, so a slow start says where it went.
"""
import os
import time
from typing import List, Optional, Tuple


def process_start_time() -> Optional[float]:
    """Wall-clock time this process started (Linux /proc), or None where that is not readable."""
    try:
        with open("/proc/self/stat") as f:
            stat = f.read()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        # Field 22 (starttime, clock ticks after boot); the command name in field 2 may hold spaces.
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return time.time() - uptime + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class StartupClock:
    """Marks phases as they end; `summary()` names each with its duration."""

    def __init__(self, origin: Optional[float] = None):
        self.origin = origin if origin is not None else (process_start_time() or time.time())
        self._last = self.origin
        self.phases: List[Tuple[str, float]] = []

    def mark(self, phase: str) -> None:
        now = time.time()
        self.phases.append((phase, max(0.0, now - self._last)))
        self._last = now

    def total(self) -> float:
        return self._last - self.origin

    def summary(self) -> str:
        parts = ", ".join("%s %.1f s" % (name, seconds) for name, seconds in self.phases)
        return "%.1f s from process start (%s)" % (self.total(), parts)
