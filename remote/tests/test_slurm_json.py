"""SLURM's JSON in both shapes (22.05 plain values; 23.02+ lists and number objects) parses to
the same jobs; scontrol's one-line output and sacct agree with it."""
import os

from conftest import TESTS

from gantry_remote import slurm_json
from gantry_remote.slurm_view import parse_sacct

FIXTURES = os.path.join(TESTS, "fixtures")


def fixture(name: str) -> str:
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def test_squeue_22_05_and_23_11_give_the_same_tasks():
    old = slurm_json.by_task(slurm_json.parse_squeue(fixture("squeue-22.05.json")), 1)
    new = slurm_json.by_task(slurm_json.parse_squeue(fixture("squeue-23.11.json")), 1)
    assert old == new
    assert sorted(old) == [0, 1, 2]
    running = old[0]
    assert (running["job_id"], running["state"], running["node"], running["restarts"]) == (2, "RUNNING", "vm", 0)
    assert running["start_ts"] - running["submit_ts"] == 2  # the queue wait a card shows
    for task in (1, 2):  # the pending remainder "1-2%1" stands for both tasks
        assert (old[task]["state"], old[task]["reason"], old[task]["job_id"]) == ("PENDING", "JobArrayTaskLimit", 1)
        assert old[task]["start_ts"] is None


def test_scontrol_show_job_agrees_with_squeue():
    from_scontrol = slurm_json.by_task(slurm_json.parse_scontrol(fixture("scontrol-show-job-22.05.txt")), 1)
    from_squeue = slurm_json.by_task(slurm_json.parse_squeue(fixture("squeue-22.05.json")), 1)
    assert sorted(from_scontrol) == [0, 1, 2]
    for task in (0, 1, 2):
        for key in ("job_id", "state", "reason", "restarts"):
            assert from_scontrol[task][key] == from_squeue[task][key], (task, key)
    assert from_scontrol[0]["node"] == "vm"


def test_sacct_both_shapes():
    for name in ("sacct-22.05.json", "sacct-23.11.json"):
        jobs = slurm_json.by_task(parse_sacct(fixture(name)), 15)
        assert jobs[2]["state"] == "CANCELLED" and jobs[2]["restarts"] == 1 and jobs[2]["node"] == "gpu07", name
        assert jobs[0]["state"] == "COMPLETED" and jobs[0]["exit_code"] == 0, name


def test_numbers_states_and_task_ranges():
    assert slurm_json.number({"set": True, "infinite": False, "number": 7}) == 7
    assert slurm_json.number({"set": False, "infinite": False, "number": 0}) is None
    assert slurm_json.number({"set": True, "infinite": True, "number": 0}) is None
    assert slurm_json.number(True) is None and slurm_json.number("7") is None
    assert slurm_json.state_of(["PENDING", "REQUEUED"]) == "PENDING" and slurm_json.state_of("running") == "RUNNING"
    assert slurm_json.task_ids("1-3,7%2") == [1, 2, 3, 7]
    assert slurm_json.task_ids("0-8:4") == [0, 4, 8]
    assert slurm_json.task_ids("garbage,5") == [5]


def test_untrusted_output_is_refused_or_skipped():
    import pytest
    with pytest.raises(ValueError, match="not JSON"):
        slurm_json.parse_squeue("slurm_load_jobs error: Socket timed out")
    with pytest.raises(ValueError, match="no \"jobs\""):
        slurm_json.parse_squeue('{"errors": []}')
    assert slurm_json.parse_squeue('{"jobs": [1, {"job_id": "x"}, {"no": "id"}]}') == []
    assert slurm_json.parse_scontrol("No jobs in the system\n") == []
