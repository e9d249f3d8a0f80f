"""The SLURM rig itself: a batch job runs on the single node and its output comes back."""
import os
import time

from slurm_rig import slurm  # noqa: F401  (pytest fixture)


def test_a_batch_job_runs_and_the_node_returns_to_idle(slurm, tmp_path):  # noqa: F811
    out = tmp_path / "hello.out"
    script = tmp_path / "hello.sh"
    script.write_text("#!/bin/bash\necho hello from $SLURM_JOB_ID on $SLURMD_NODENAME\n")
    job = slurm.run("sbatch", "--parsable", "-o", str(out), str(script)).stdout.strip()
    deadline = time.monotonic() + 30
    while job in slurm.job_ids() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert out.read_text().strip() == "hello from %s on %s" % (job, slurm.node)
    assert os.path.exists(slurm.conf)
    slurm.wait_node_state("idle")
