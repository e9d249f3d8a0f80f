"""Which GPU each trainer runs on.

A plan uses every GPU of the host unless it lists some (`"gpus": [0, 2]`), and keeps `slots`
trainers running on each of them. A trainer is pinned with CUDA_VISIBLE_DEVICES to the GPU with
the fewest of this run's trainers (ties: the lowest index), except that a restarted game goes back
to the GPU it had, so its CUDA caches and the user's picture of "who is where" stay put. A host
without GPUs (This computer, a CPU box) is one pool of `slots`.
"""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

PlanGpus = Union[str, List[int]]


def gpus_to_use(plan_gpus: PlanGpus, host_gpus: Sequence[int]) -> Tuple[List[int], List[int]]:
    """(GPUs this run uses, GPUs the plan lists that the host lacks)."""
    if plan_gpus == "all":
        return sorted(set(host_gpus)), []
    wanted = sorted(set(plan_gpus))
    present = set(host_gpus)
    return [i for i in wanted if i in present], [i for i in wanted if i not in present]


def capacity(gpus: Sequence[int], slots_per_gpu: int) -> int:
    """How many trainers run at once: slots on each GPU, or slots in all without GPUs."""
    return slots_per_gpu * max(1, len(gpus))


def load(assigned: Iterable[Optional[int]], gpus: Sequence[int]) -> Dict[int, int]:
    """Running trainers per GPU (trainers on a GPU the run no longer uses are not counted)."""
    counts = {i: 0 for i in gpus}
    for index in assigned:
        if index in counts:
            counts[index] += 1
    return counts


def choose_gpu(gpus: Sequence[int], running_per_gpu: Dict[int, int], slots_per_gpu: int,
               previous: Optional[int] = None) -> Optional[int]:
    """The GPU for the next trainer, or None when every GPU's slots are taken (or no GPUs)."""
    free = [i for i in gpus if running_per_gpu.get(i, 0) < slots_per_gpu]
    if not free:
        return None
    if previous in free:
        return previous
    return min(free, key=lambda i: (running_per_gpu.get(i, 0), i))


def parse_visible_devices(value: Optional[str]) -> Optional[int]:
    """The GPU index a trainer was pinned to, from its CUDA_VISIBLE_DEVICES (one plain index)."""
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 3 else None
