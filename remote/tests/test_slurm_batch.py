"""The sbatch lines and job script generated for a SLURM plan: GRES (a whole GPU or a shard),
partition, account, QoS, time, CPUs, memory and the site's extra lines; no GPUs needed."""
import subprocess

import pytest

from gantry_remote.paths import UserError
from gantry_remote.plan import validate_plan
from gantry_remote.slurm_batch import job_script, sbatch_lines, validate_options


def plan_with(**scheduler):
    return validate_plan({"name": "p", "slots": 2, "games": [
        {"game": "breakout", "backend": "builtin", "target_episodes": 100},
        {"game": "freeway", "backend": "builtin", "target_episodes": 50, "trainer_args": {"num_envs": 8}},
        {"game": "asterix", "backend": "builtin", "target_episodes": 10}],
        "scheduler": dict({"kind": "slurm"}, **scheduler)})


def test_site_settings_become_sbatch_lines_in_order():
    options = plan_with(partition="gpu", account="lab-42", qos="normal", time_limit_min=720, gres="gpu:1",
                        cpus_per_task=8, mem_mb=32000, extra_sbatch=["--constraint=a100", "--exclude=node13"])["scheduler"]
    assert sbatch_lines(options, "run1", "/shared/g/runs/run1", games=3, slots=2) == [
        "--job-name=gantry-run1", "--array=0-2%2", "--requeue", "--signal=B:USR1@120",
        "--output=/shared/g/runs/run1/slurm/task-%a.out", "--open-mode=append", "--ntasks=1",
        "--partition=gpu", "--account=lab-42", "--qos=normal", "--time=720", "--cpus-per-task=8",
        "--gres=gpu:1", "--mem=32000M", "--constraint=a100", "--exclude=node13"]


def test_a_gpu_shard_and_defaults():
    options = plan_with(gres="shard:1")["scheduler"]
    lines = sbatch_lines(options, "r", "/x", games=10, slots=20)
    assert "--gres=shard:1" in lines and "--array=0-9%10" in lines  # throttle never above the games
    assert not [line for line in lines if line.startswith(("--partition", "--account", "--qos", "--time", "--mem"))]
    assert options["max_requeues"] == 50 and options["signal_grace_s"] == 120
    assert "--gres=gpu:a100:2" in sbatch_lines(plan_with(gres="gpu:a100:2")["scheduler"], "r", "/x", 1, 1)


@pytest.mark.parametrize("field,value,says", [
    ("partition", "gpu; rm -rf /", "not a SLURM name"),
    ("gres", "gpu:1 --wrap=x", "not a GRES request"),
    ("time_limit_min", 0, "from 1 to"),
    ("cpus_per_task", "8", "whole number"),
    ("extra_sbatch", ["--array=0-99"], "may not set --array"),
    ("extra_sbatch", ["--signal=USR2@5"], "may not set --signal"),
    ("extra_sbatch", ["--constraint=a100\n#SBATCH --array=1"], "not one sbatch option"),
    ("extra_sbatch", "--constraint=a100", "must be a list"),
])
def test_bad_settings_are_refused_with_what_to_fix(field, value, says):
    with pytest.raises(UserError) as e:
        plan_with(**{field: value})
    assert e.value.code == "bad_plan" and says in e.value.message


def test_unknown_scheduler_kind_is_refused():
    with pytest.raises(UserError, match="kind"):
        validate_options({"kind": "pbs"})


def test_the_job_script_is_valid_bash_mapping_each_task_to_its_game():
    plan = plan_with(gres="shard:1", partition="gpu")
    script = job_script(plan, "run1", "/shared/g/runs/run1", "/shared/g")
    assert script.startswith("#!/bin/bash\n#SBATCH --job-name=gantry-run1\n")
    assert "#SBATCH --gres=shard:1\n" in script
    check = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert check.returncode == 0, check.stderr
    # Task order is the plan's queue order (longest first), each with --resume.
    assert "  0) GAME=breakout;" in script and "  1) GAME=freeway;" in script and "  2) GAME=asterix;" in script
    assert script.count("--resume") == 3 and "--num-envs=8" in script
    assert "sync --root /shared/g --run run1" in script
