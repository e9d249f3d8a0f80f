"""CPU cores per trainer: Linux CPU lists ("0-3,8"), the supervisor's sharing rule, re-pinning.

The rule (remote/PROTOCOL.md, "CPU cores"): the supervisor's own allowed cores, in order, are cut
into `slots` contiguous shares whose sizes differ by at most one; the trainer in slot k gets share k.
With more slots than cores every slot gets one core, slot k core k mod n: trainers then share cores.
"""
import os
from typing import Iterable, List


def parse_cpu_list(text: str) -> List[int]:
    """"0-3,8" -> [0, 1, 2, 3, 8]; raises ValueError naming what is wrong."""
    cores = set()
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            raise ValueError("empty entry in CPU list %r (write it like 0-3,8)" % text)
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError("%r in CPU list %r is not a core number or a range like 0-3" % (part, text))
        first, last = int(lo), int(hi) if sep else int(lo)
        if last < first:
            raise ValueError("range %r in CPU list %r runs backwards" % (part, text))
        cores.update(range(first, last + 1))
    return sorted(cores)


def format_cpu_list(cores: Iterable[int]) -> str:
    """[0, 1, 2, 3, 8] -> "0-3,8" (the form of /proc/<pid>/status Cpus_allowed_list)."""
    ordered = sorted(set(cores))
    runs: List[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        runs.append(str(ordered[i]) if i == j else "%d-%d" % (ordered[i], ordered[j]))
        i = j + 1
    return ",".join(runs)


def core_shares(cores: List[int], slots: int) -> List[List[int]]:
    """The cores of each slot, by the rule in the module docstring."""
    n = len(cores)
    if slots > n:
        return [[cores[k % n]] for k in range(slots)]
    base, extra = divmod(n, slots)
    shares, start = [], 0
    for k in range(slots):
        size = base + (1 if k < extra else 0)
        shares.append(cores[start:start + size])
        start += size
    return shares


def pin_process(pid: int, cores: List[int]) -> None:
    """Move every thread of `pid` onto `cores` (sched_setaffinity on a pid moves one thread only).
    Threads that end meanwhile are skipped; a gone process raises ProcessLookupError."""
    try:
        tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None
    for tid in tids:
        try:
            os.sched_setaffinity(tid, cores)
        except ProcessLookupError:
            continue
