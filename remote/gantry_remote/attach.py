"""`attach`: replay the journal from a seq, then follow it, so a client that reconnects after
any disconnect gets exactly the events it missed: no gap, no duplicate.

Transient heartbeats (never journaled) tell the client the link is alive while the run is
quiet; their seq is the last journaled seq so a client can use them as a resume point.
"""
import json
import os
import sys
import time
from typing import Any, Dict, TextIO

from . import PROTOCOL_VERSION
from . import state as run_state
from .journal import JournalReader

POLL_S = 0.2
HEARTBEAT_S = float(os.environ.get("GANTRY_ATTACH_HEARTBEAT_S", "5"))


def _write(out: TextIO, event: Dict[str, Any]) -> None:
    out.write(json.dumps(event, separators=(",", ":")) + "\n")
    out.flush()


def attach(run_path: str, run_id: str, from_seq: int, follow: bool, out: TextIO = sys.stdout) -> int:
    reader = JournalReader(os.path.join(run_path, "events.jsonl"))
    last_seq = 0
    last_heartbeat = time.monotonic()
    try:
        while True:
            events = reader.read_new()
            for event in events:
                last_seq = max(last_seq, event["seq"])
                if event["seq"] >= from_seq:
                    _write(out, event)
            if not follow:
                return 0
            if not events:
                alive = run_state.supervisor_alive(run_path)
                st = run_state.load(run_path) or {}
                if not alive and st.get("state") not in (None, "running"):
                    # Finished and not resumed; one last read catches lines written just before.
                    for event in reader.read_new():
                        if event["seq"] >= from_seq:
                            _write(out, event)
                    return 0
                if time.monotonic() - last_heartbeat >= HEARTBEAT_S:
                    _write(out, {"v": PROTOCOL_VERSION, "type": "heartbeat", "ts": round(time.time(), 3),
                                 "run": run_id, "seq": last_seq, "transient": True, "supervisor_alive": alive})
                    last_heartbeat = time.monotonic()
                time.sleep(POLL_S)
    except BrokenPipeError:
        # The client went away (SSH channel closed). Silence the interpreter's flush at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out.fileno())
        except (OSError, ValueError):
            pass
        return 0
