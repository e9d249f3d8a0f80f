"""`doctor --slurm` on the real single-node cluster: version, partitions, accounting, the
filesystem of Gantry's folder, and a test job that writes into it, its state and output streamed
to stderr as they arrive."""
import json
import os
import stat
import subprocess
import sys
import time

from conftest import REMOTE, Rig
from slurm_rig import slurm  # noqa: F401  (pytest fixture)

from gantry_remote.slurm_test_job import OutputTail, explain_reason

FAKE_SMI = """#!/bin/sh
echo "550.54.15, 81559 MiB, NVIDIA H100 80GB HBM3"
echo "550.54.15, 81559 MiB, NVIDIA H100 80GB HBM3"
"""


def doctor(slurm, root, *args, env=None, timeout=180):  # noqa: F811
    """The CLI as the desktop runs it: (report, stderr lines each with the second it arrived)."""
    argv = [sys.executable, "-m", "gantry_remote", "doctor", "--json", "--root", root, "--slurm"] + list(args)
    proc = subprocess.Popen(argv, cwd=REMOTE, env=env or dict(os.environ, SLURM_CONF=slurm.conf),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started, lines = time.monotonic(), []
    for line in proc.stderr:
        lines.append((round(time.monotonic() - started, 1), line.rstrip("\n")))
    out = proc.stdout.read()
    assert proc.wait(timeout=timeout) == 0, (out, lines)
    return json.loads(out.strip().splitlines()[-1]), lines


def test_doctor_reports_the_cluster_and_runs_a_test_job(slurm):  # noqa: F811
    report, streamed = doctor(slurm, os.path.join(slurm.dir, "gantry-doctor"), "--partition", "debug")
    s = report["slurm"]
    assert s["version"].startswith("slurm")
    assert s["accounting"] is False
    assert [p["name"] for p in s["partitions"]] == ["debug"] and s["partitions"][0]["up"] and s["partitions"][0]["default"]
    job = s["test_job"]
    assert job["ok"] and job["node"] == slurm.node and job["python"] == sys.version.split()[0], job
    assert job["shared"] is True and job["gpus"] == [], job
    messages = [v["message"] for v in report["verdicts"]]
    assert any("Test job %s ran on %s with Python %s (no GPU" % (job["job_id"], slurm.node, job["python"]) in m for m in messages), messages
    assert any("accounting off" in m for m in messages)
    # The rig's folder is on a local filesystem, but the test job proved the node sees it: no warning.
    assert not [m for m in messages if "compute nodes usually cannot see" in m], messages
    # What the terminal showed, in order: submitted, the job's own lines, finished.
    text = [line for _, line in streamed]
    submitted = "Submitted test job %s with --partition=debug; its output follows as it arrives." % job["job_id"]
    order = [text.index(line) for line in (submitted,
                                           "node=" + slurm.node, "python=" + job["python"], "gpus=none", "shared=yes",
                                           "job %s finished." % job["job_id"])]
    assert order == sorted(order), text
    running = "job %s: RUNNING on %s" % (job["job_id"], slurm.node)  # unless the job was quicker than one poll
    assert running not in text or text.index(running) < text.index("node=" + slurm.node), text
    assert not [n for n in os.listdir(os.path.join(slurm.dir, "gantry-doctor", "doctor")) if n.startswith("slurm-test-")]


def test_the_test_job_reports_the_nodes_gpus_and_driver(slurm, tmp_path):  # noqa: F811
    # The job inherits the submitting environment (sbatch --export=ALL), so a stand-in nvidia-smi
    # on PATH is what the compute node runs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text(FAKE_SMI)
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, SLURM_CONF=slurm.conf, PATH="%s:%s" % (bin_dir, os.environ["PATH"]))
    report, streamed = doctor(slurm, os.path.join(slurm.dir, "gantry-doctor-gpu"), env=env)
    job = report["slurm"]["test_job"]
    assert job["gpus"] == ["550.54.15, 81559 MiB, NVIDIA H100 80GB HBM3"] * 2, job
    assert "gpu=550.54.15, 81559 MiB, NVIDIA H100 80GB HBM3" in [line for _, line in streamed]
    messages = [v["message"] for v in report["verdicts"]]
    assert any("and 2 GPU(s): NVIDIA H100 80GB HBM3, 81559 MiB (driver 550.54.15)" in m for m in messages), messages


def test_a_test_job_that_stays_pending_is_cancelled_with_squeues_reason(slurm):  # noqa: F811
    # A job holding every CPU of the only node: the doctor's job waits for Resources.
    blocker = slurm.run("sbatch", "--parsable", "--output=/dev/null", "--cpus-per-task=%d" % slurm.cpus, "--wrap=sleep 300").stdout.strip()
    try:
        deadline = time.monotonic() + 30
        while "RUNNING" not in slurm.run("squeue", "-h", "-j", blocker, "-o", "%T").stdout and time.monotonic() < deadline:
            time.sleep(0.2)
        report, streamed = doctor(slurm, os.path.join(slurm.dir, "gantry-doctor-pending"), "--test-job-timeout", "5")
    finally:
        slurm.run("scancel", blocker, check=False)
    job = report["slurm"]["test_job"]
    assert job["ok"] is False and job["state"] == "PENDING" and job["reason"] == "Resources", job
    assert job["job_id"] not in slurm.job_ids()  # cancelled, not left waiting in the queue
    busy = "Resources: the nodes it could use are busy"
    assert "job %s: PENDING (%s; it starts when one frees up)" % (job["job_id"], busy) in [line for _, line in streamed]
    errors = [v["message"] for v in report["verdicts"] if v["level"] == "error"]
    assert any("still PENDING after 5 s (reason %s" % busy in m and "cancelled" in m for m in errors), errors


def test_the_test_job_asks_for_what_each_games_job_asks_for(slurm):  # noqa: F811
    # The instance's SLURM settings as the plan carries them: the test job asks alike (not its time limit).
    block = {"kind": "slurm", "partition": "debug", "cpus_per_task": 2, "mem_mb": 100, "time_limit_min": 600,
             "extra_sbatch": ["--comment=gantry-test"]}
    report, streamed = doctor(slurm, os.path.join(slurm.dir, "gantry-doctor-block"), "--scheduler", json.dumps(block))
    job = report["slurm"]["test_job"]
    assert job["ok"], job
    assert "Submitted test job %s with --partition=debug --cpus-per-task=2 --mem=100M --comment=gantry-test; its output follows " \
        "as it arrives." % job["job_id"] in [line for _, line in streamed]
    # GPUs this cluster does not have: SLURM refuses the job, and the doctor says so before any run does.
    report, _ = doctor(slurm, os.path.join(slurm.dir, "gantry-doctor-gres"), "--scheduler", json.dumps(dict(block, gres="gpu:1")))
    job = report["slurm"]["test_job"]
    assert job["ok"] is False and job["error"].startswith("sbatch refused the test job:"), job
    assert any(v["level"] == "error" and "sbatch refused the test job" in v["message"] for v in report["verdicts"])


def test_output_tail_returns_complete_lines_as_they_are_appended(tmp_path):
    path = tmp_path / "job.out"
    tail = OutputTail(str(path))
    assert tail.read() == []  # not created yet: SLURM creates it when the job starts
    with open(path, "ab") as f:
        f.write(b"node=n1\npyth")
    assert tail.read() == ["node=n1"]
    with open(path, "ab") as f:
        f.write(b"on=3.11.2\n\x1b]8;;evil\x07gpus=none\npartial")
    assert tail.read() == ["python=3.11.2", "]8;;evilgpus=none"]  # control characters dropped
    assert tail.read(final=True) == ["partial"]
    assert tail.lines == ["node=n1", "python=3.11.2", "]8;;evilgpus=none", "partial"]


def test_doctor_names_a_partition_that_does_not_exist(slurm):  # noqa: F811
    rig = Rig(os.path.join(slurm.dir, "gantry-doctor-2"))
    rig.env["SLURM_CONF"] = slurm.conf
    report = rig.ok("doctor", "--slurm", "--partition", "gpu-nope", "--no-test-job", timeout=120)
    errors = [v["message"] for v in report["verdicts"] if v["level"] == "error"]
    assert any("Partition gpu-nope is not on this cluster (partitions: debug)" in m for m in errors), errors
    assert not [v for v in report["verdicts"] if v["level"] == "ok"]
    assert "test_job" not in report["slurm"]
    # Without a test job only the filesystem type speaks: the rig's local folder is flagged.
    warnings = [v["message"] for v in report["verdicts"] if v["level"] == "warning"]
    assert any("compute nodes usually cannot see" in m for m in warnings), (report["slurm"]["filesystem"], warnings)


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


def test_pending_reasons_are_explained_with_squeues_details_kept():
    assert explain_reason("Priority") == "Priority: jobs with a higher priority are ahead of it"
    assert explain_reason("ReqNodeNotAvail, UnavailableNodes:n[1-4]") == (
        "ReqNodeNotAvail, UnavailableNodes:n[1-4]: the nodes it needs are down, drained or reserved")
    assert explain_reason("SomethingNew") == "SomethingNew"
