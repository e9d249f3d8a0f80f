"""CPU cores per trainer: each running trainer gets its own share of the supervisor's cores (read
back from /proc/<pid>/status), shown in `status`, and shares are recomputed when the slots change."""
import os

import pytest
from conftest import fake_game, wait_until

from gantry_remote.cpus import core_shares, format_cpu_list, parse_cpu_list

CORES = sorted(os.sched_getaffinity(0))


def allowed_cores(pid: int, thread: int = 0) -> str:
    """Cpus_allowed_list of the process, or of one of its threads."""
    path = "/proc/%d/status" % pid if not thread else "/proc/%d/task/%d/status" % (pid, thread)
    with open(path) as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    raise AssertionError("no Cpus_allowed_list in " + path)


def test_cpu_lists_round_trip_and_reject_nonsense():
    assert parse_cpu_list("0-3,8, 10-11") == [0, 1, 2, 3, 8, 10, 11]
    assert format_cpu_list([8, 0, 1, 2, 3, 10, 11]) == "0-3,8,10-11"
    for bad in ("", "a", "3-1", "1,,2", "-2"):
        with pytest.raises(ValueError):
            parse_cpu_list(bad)


def test_shares_are_disjoint_and_cover_the_cores_then_wrap_past_one_per_slot():
    cores = list(range(16))
    shares = core_shares(cores, 6)
    assert [len(s) for s in shares] == [3, 3, 3, 3, 2, 2]
    assert sorted(c for s in shares for c in s) == cores
    assert core_shares(cores, 1) == [cores]
    assert core_shares([0, 1], 3) == [[0], [1], [0]]  # more slots than cores: one core each, shared


def test_two_trainers_get_disjoint_cores_recomputed_when_slots_change(rig):
    assert len(CORES) >= 2, "this test needs a process allowed at least 2 cores (CI has 2)"
    slow = {"fake_episodes_per_sec": 10}
    games = [fake_game("breakout", 100, **slow), fake_game("freeway", 100, **slow)]
    run_id = rig.start(rig.plan(games, slots=1))
    wait_until(lambda: rig.trainer_pids("breakout"), what="first trainer")
    (first,) = rig.trainer_pids("breakout")
    assert allowed_cores(first) == format_cpu_list(CORES)  # one slot: all the supervisor's cores
    view = {g["game"]: g for g in rig.status(run_id)["games"]}
    assert view["breakout"]["cpus"] == format_cpu_list(CORES) and view["freeway"]["cpus"] is None

    rig.ok("set-slots", "--run", run_id, "2")
    wait_until(lambda: rig.trainer_pids("freeway"), what="second trainer")
    (second,) = rig.trainer_pids("freeway")
    halves = core_shares(CORES, 2)
    # The running trainer moved onto slot 0's share, every thread of it; the new one got slot 1's.
    wait_until(lambda: allowed_cores(first) == format_cpu_list(halves[0]), what="first trainer moved")
    for tid in os.listdir("/proc/%d/task" % first):
        assert allowed_cores(first, int(tid)) == format_cpu_list(halves[0])
    assert allowed_cores(second) == format_cpu_list(halves[1])
    assert not set(parse_cpu_list(allowed_cores(first))) & set(parse_cpu_list(allowed_cores(second)))
    view = {g["game"]: g for g in rig.status(run_id)["games"]}
    assert view["breakout"]["cpus"] == format_cpu_list(halves[0])
    assert view["freeway"]["cpus"] == format_cpu_list(halves[1])
    rig.ok("stop", "--run", run_id)
    rig.wait_finished(run_id, timeout=60)
