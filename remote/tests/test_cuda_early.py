"""cuda_early: the trainer's CUDA context created while torch imports (issue #16 start-up)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REMOTE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REMOTE))

from gantry_remote.cuda_early import EarlyContext, device_ordinal, start  # noqa: E402


@pytest.mark.parametrize("argv, ordinal", [
    ([], 0),  # --device defaults to auto
    (["--device", "auto"], 0),
    (["--device", "cuda"], 0),
    (["--device", "cuda:3"], 3),
    (["--device=cuda:1"], 1),
    (["--device", "cpu"], None),
    (["--device", "cuda:1", "--device", "cpu"], None),  # the last one wins, as in argparse
    (["--device", "cuda:x"], None),  # not a device: the trainer's parser says so, nothing starts here
    (["--device"], 0),
])
def test_the_device_the_trainer_will_use(argv, ordinal):
    assert device_ordinal(["--game", "breakout"] + argv) == ordinal


def test_a_cpu_run_starts_nothing():
    assert start(["--game", "breakout", "--device", "cpu"]) is None


def test_a_host_without_the_driver_is_noted_not_raised():
    outcome = EarlyContext(0, library="libcuda-that-is-not-here.so.1").outcome(wait_s=10)
    assert outcome.startswith("CUDA context: not created early (no CUDA driver here")


def test_a_library_that_is_not_the_driver_is_noted_not_raised():
    outcome = EarlyContext(0, library="libc.so.6").outcome(wait_s=10)
    assert outcome == "CUDA context: not created early (libc.so.6 has no cuInit)"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (the GPU machine)")
def test_on_a_gpu_the_trainer_logs_the_early_context_and_trains(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REMOTE))
    proc = subprocess.run([sys.executable, "-m", "gantry_remote", "train", "--run-dir", str(tmp_path), "--device", "cuda",
                           "--game", "breakout", "--num-envs", "64", "--num-steps", "16", "--total-steps", "4096",
                           "--no-export"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CUDA context: created during the imports, in parallel" in proc.stdout
    assert (tmp_path / "completed.json").exists()
