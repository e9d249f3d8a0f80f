"""Protocol v1 journal events: the required fields of each type (PROTOCOL.md's table, as data).

Used to check the golden fixture and every journal the tests produce, so the supervisor and
the desktop's zod schemas cannot drift apart silently.
"""
from typing import Any, Dict, List

from . import PROTOCOL_VERSION

COMMON = ("v", "type", "ts", "run", "seq")

EVENT_FIELDS: Dict[str, tuple] = {
    "run_started": ("plan_name", "slots", "games", "resumed"),
    "supervisor_started": ("pid", "adopted"),
    "game_queued": ("game",),
    "game_started": ("game", "pid", "attempt", "resumed_from_checkpoint"),
    "progress": ("game", "episodes", "target_episodes", "mean_return", "global_step", "sps", "episodes_per_hour"),
    "checkpoint": ("game", "file", "global_step"),
    "model_exported": ("game", "file", "sha256", "size", "global_step"),
    "game_restarting": ("game", "cause", "attempt", "exit_code", "detail", "delay_s"),
    "game_failed": ("game", "cause", "detail"),
    "game_completed": ("game", "episodes"),
    "game_paused": ("game",),
    "game_resumed": ("game",),
    "game_stopped": ("game",),
    "slots_changed": ("slots",),
    "slurm_job": ("game", "job_id", "state", "reason", "node"),
    "gpu": ("gpus",),
    "gpu_unavailable": ("reason",),
    "mps_unavailable": ("reason",),
    "budget": ("spent", "projected", "limit", "unit", "status", "on_limit", "active_hours"),
    "heartbeat": (),
    "run_completed": ("state",),
}
CAUSES = ("crash", "oom", "nan", "cuda", "signal", "frozen", "other", "preempted", "time_limit", "node_fail", "cancelled")
GPU_FIELDS = ("index", "name", "util", "mem_used", "mem_total", "temp", "power")


def problems(event: Dict[str, Any]) -> List[str]:
    """Everything wrong with one event; empty when it conforms."""
    out = ["missing %s" % k for k in COMMON if k not in event]
    if out:
        return out
    if event["v"] != PROTOCOL_VERSION:
        out.append("v is %r" % event["v"])
    kind = event["type"]
    if kind not in EVENT_FIELDS:
        return out + ["unknown type %r" % kind]
    out += ["%s: missing %s" % (kind, k) for k in EVENT_FIELDS[kind] if k not in event]
    if not isinstance(event["seq"], int) or event["seq"] < 1:
        out.append("seq %r" % event["seq"])
    if kind in ("game_restarting", "game_failed") and event.get("cause") not in CAUSES:
        out.append("cause %r" % event.get("cause"))
    if kind == "game_restarting" and "changes" in event:
        changes = event["changes"]
        if not isinstance(changes, list) or not all(isinstance(c, dict) and {"arg", "from", "to"} <= set(c) for c in changes):
            out.append("changes %r" % (changes,))
    if kind == "run_completed" and event.get("state") not in ("completed", "stopped", "failed"):
        out.append("state %r" % event.get("state"))
    if kind == "gpu":
        for g in event.get("gpus") or []:
            out += ["gpu: missing %s" % k for k in GPU_FIELDS if k not in g]
    return out
