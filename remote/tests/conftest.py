"""Shared rig for supervisor/CLI tests: real processes under a temp root, fast intervals."""
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
REMOTE = os.path.dirname(TESTS)
REPO = os.path.dirname(REMOTE)
FAKE_TRAINER = os.path.join(TESTS, "fake_trainer.py")
sys.path.insert(0, REMOTE)

# Tick fast so whole scenarios take seconds; the defaults (1 s / 30 s / 60 s) suit real runs.
FAST_ENV = {
    "GANTRY_TICK_S": "0.05",
    "GANTRY_PROGRESS_INTERVAL_S": "0.3",
    "GANTRY_HEARTBEAT_S": "60",
    "GANTRY_STOP_GRACE_S": "5",
    "GANTRY_ATTACH_HEARTBEAT_S": "0.5",
    "PYTHONPATH": REMOTE,
    # The supervisor runs the fake trainer instead of gantry's (plans cannot choose the program).
    "GANTRY_TRAINER_COMMAND": json.dumps([sys.executable, FAKE_TRAINER]),
}


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what or predicate))
        time.sleep(interval)


def pids_with_arg(needle: str) -> List[int]:
    """Live, non-zombie processes whose command line mentions `needle` (our temp root)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/stat" % entry, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        if needle.encode() in cmd and stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X"):
            found.append(int(entry))
    return found


class Rig:
    def __init__(self, root: str) -> None:
        self.root = root
        self.env = dict(os.environ, **FAST_ENV)
        self.env.pop("GANTRY_NVIDIA_SMI", None)

    # -- CLI --------------------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 30, env: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
        argv = [sys.executable, "-m", "gantry_remote", args[0], "--root", self.root] + list(args[1:])
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, env=env or self.env, cwd=REMOTE)
        out = proc.stdout.decode().strip()
        try:
            parsed: Any = json.loads(out) if out else None
        except ValueError:
            parsed = [json.loads(line) for line in out.splitlines()]
        return proc.returncode, parsed

    def ok(self, *args: str, **kw: Any) -> Any:
        rc, out = self.cli(*args, **kw)
        assert rc == 0, (args, rc, out)
        return out

    # -- plans and runs ---------------------------------------------------------------------
    def plan(self, games: List[Dict[str, Any]], **fields: Any) -> str:
        plan = {
            "name": fields.pop("name", "test-plan"),
            "slots": fields.pop("slots", 3),
            "games": games,
            "restart": fields.pop("restart", {"max_restarts": 3, "backoff_s": [0.2]}),
            "heartbeat_timeout_s": fields.pop("heartbeat_timeout_s", 30),
            "gpu_sample_s": fields.pop("gpu_sample_s", 5),
        }
        plan.update(fields)
        path = os.path.join(self.root, "plan-%d.json" % time.monotonic_ns())
        os.makedirs(self.root, exist_ok=True)
        with open(path, "w") as f:
            json.dump(plan, f)
        return path

    def start(self, plan_path: str, *extra: str) -> str:
        return self.ok("start", "--plan", plan_path, *extra)["run_id"]

    def run_path(self, run_id: str) -> str:
        return os.path.join(self.root, "runs", run_id)

    def state(self, run_id: str) -> Dict[str, Any]:
        with open(os.path.join(self.run_path(run_id), "state.json")) as f:
            return json.load(f)

    def status(self, run_id: str) -> Dict[str, Any]:
        return self.ok("status", "--run", run_id, "--json")

    def events(self, run_id: str) -> List[Dict[str, Any]]:
        path = os.path.join(self.run_path(run_id), "events.jsonl")
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in data.split(b"\n")[:-1]]

    def of_type(self, run_id: str, kind: str, **match: Any) -> List[Dict[str, Any]]:
        return [e for e in self.events(run_id) if e["type"] == kind and all(e.get(k) == v for k, v in match.items())]

    def wait_finished(self, run_id: str, timeout: float = 30) -> Dict[str, Any]:
        wait_until(lambda: self.of_type(run_id, "run_completed"), timeout, what="run_completed in " + run_id)
        wait_until(lambda: not self.status(run_id)["supervisor_alive"], 5, what="supervisor exit")
        return self.status(run_id)

    def trainer_pids(self, game: str) -> List[int]:
        needle = os.path.join(self.root, "runs")
        return [p for p in pids_with_arg(needle) if self._is_trainer_of(p, game)]

    @staticmethod
    def _is_trainer_of(pid: int, game: str) -> bool:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            return False
        return FAKE_TRAINER.encode() in args and b"--game" in args and args[args.index(b"--game") + 1] == game.encode()

    def kill_everything(self) -> None:
        for pid in pids_with_arg(self.root):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def rig(tmp_path):
    r = Rig(str(tmp_path / "gantry"))
    os.makedirs(r.root)
    yield r
    r.kill_everything()


def fake_game(name: str, target: int = 20, backend: str = "builtin", **trainer_args: Any) -> Dict[str, Any]:
    game: Dict[str, Any] = {"game": name, "backend": backend, "target_episodes": target}
    if trainer_args:
        game["trainer_args"] = trainer_args
    return game


def assert_journal_sound(events: List[Dict[str, Any]]) -> None:
    """seq 1..N with no gap or repeat, and every event conforms to protocol v1."""
    from gantry_remote.protocol import problems

    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    bad = [(e, problems(e)) for e in events if problems(e)]
    assert not bad, bad
