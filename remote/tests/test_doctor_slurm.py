"""`doctor --slurm` on the real single-node cluster: version, partitions, accounting, the
filesystem of Gantry's folder, and a test job that writes into it."""
import os

from conftest import Rig
from slurm_rig import slurm  # noqa: F401  (pytest fixture)


def test_doctor_reports_the_cluster_and_runs_a_test_job(slurm):  # noqa: F811
    rig = Rig(os.path.join(slurm.dir, "gantry-doctor"))
    rig.env["SLURM_CONF"] = slurm.conf
    report = rig.ok("doctor", "--slurm", "--partition", "debug", timeout=180)
    s = report["slurm"]
    assert s["version"].startswith("slurm")
    assert s["accounting"] is False
    assert [p["name"] for p in s["partitions"]] == ["debug"] and s["partitions"][0]["up"] and s["partitions"][0]["default"]
    job = s["test_job"]
    assert job["ok"] and job["node"] == slurm.node and job["python"], job
    messages = [v["message"] for v in report["verdicts"]]
    assert any("Test job %s ran on %s" % (job["job_id"], slurm.node) in m for m in messages), messages
    assert any("accounting off" in m for m in messages)


def test_doctor_names_a_partition_that_does_not_exist(slurm):  # noqa: F811
    rig = Rig(os.path.join(slurm.dir, "gantry-doctor-2"))
    rig.env["SLURM_CONF"] = slurm.conf
    report = rig.ok("doctor", "--slurm", "--partition", "gpu-nope", "--no-test-job", timeout=120)
    errors = [v["message"] for v in report["verdicts"] if v["level"] == "error"]
    assert any("Partition gpu-nope is not on this cluster (partitions: debug)" in m for m in errors), errors
    assert not [v for v in report["verdicts"] if v["level"] == "ok"]
    assert "test_job" not in report["slurm"]


def test_without_slurm_the_doctor_says_to_use_the_login_node(tmp_path):
    from gantry_remote.doctor_slurm import slurm_report, slurm_verdicts
    old = os.environ.get("PATH")
    os.environ["PATH"] = "/nonexistent"  # no sinfo anywhere
    try:
        report = slurm_report(str(tmp_path / "g"), None)
    finally:
        os.environ["PATH"] = old or ""
    verdicts = slurm_verdicts(report, None)
    assert verdicts[0]["level"] == "error" and "login node" in verdicts[0]["message"]
