"""bench_gpu_share.py's --trainer-arg: what it puts in the plan, as the trainer will read it."""
import sys
from pathlib import Path

import pytest

REMOTE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REMOTE))
sys.path.insert(0, str(REMOTE.parent / "bench"))

import bench_gpu_share  # noqa: E402

from gantry_remote.plan import trainer_flags  # noqa: E402
from gantry_remote.ppo import parse_args  # noqa: E402


def test_trainer_args_reach_the_trainer_as_it_parses_them(tmp_path):
    args = bench_gpu_share.trainer_args_from(["amp=true", "num_envs=8", "learning_rate=3e-4"])
    parsed = parse_args(["--run-dir", str(tmp_path)] + trainer_flags(args))
    assert parsed.amp is True and parsed.num_envs == 8 and parsed.learning_rate == 3e-4


def test_a_flag_cannot_be_turned_off_through_a_plan():
    with pytest.raises(SystemExit, match="cannot turn a flag off"):
        bench_gpu_share.trainer_args_from(["amp=false"])
