"""bench/bench_gpu_profile.py: the interval union its busy fraction rests on, and the bench run small on
CPU as a real process (the trainer's own step under torch.profiler, CPU ops in place of CUDA kernels)."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(TESTS))
sys.path.insert(0, os.path.join(REPO, "bench"))

import bench_gpu_profile  # noqa: E402


def test_union_counts_overlapping_and_nested_intervals_once():
    union = bench_gpu_profile.union_length
    assert union([]) == 0
    assert union([(0, 10), (20, 25)]) == 15  # disjoint
    assert union([(0, 10), (5, 15)]) == 15  # overlapping
    assert union([(0, 10), (2, 3), (4, 9)]) == 10  # nested
    assert union([(20, 30), (0, 10), (10, 20)]) == 30  # touching, out of order
    assert union([(0, 4), (1, 2), (3, 8), (12, 13), (12.5, 14)]) == 8 + 2  # all at once
    assert union([(5, 5), (7, 6)]) == 0  # empty and reversed intervals cover nothing


def test_clipping_to_a_window_keeps_only_its_part():
    assert bench_gpu_profile.clipped([(0, 10), (15, 30), (40, 50)], (5, 20)) == [(5, 10), (15, 20)]


def test_innermost_ops_drop_the_ops_that_hold_others():
    def op(name, ts, dur, tid=1):
        return {"name": name, "ts": ts, "dur": dur, "pid": 1, "tid": tid}

    ops = [op("linear", 0, 10), op("addmm", 1, 8), op("copy", 2, 1), op("relu", 11, 2),
           op("mm", 0, 5, tid=2), op("sum", 3, 1.0, tid=2), op("exact_end", 4.0, 1.0000001, tid=2)]
    names = sorted(e["name"] for e in bench_gpu_profile.innermost_ops(ops))
    assert names == ["copy", "exact_end", "relu", "sum"]


def test_bench_profiles_the_trainer_step_on_cpu(tmp_path):
    out = tmp_path / "profile.json"
    done = subprocess.run(
        [sys.executable, os.path.join(REPO, "bench", "bench_gpu_profile.py"), "--device", "cpu", "--iterations", "1",
         "--trainer-arg", "num_envs=8", "--trainer-arg", "num_steps=16", "--trainer-arg", "minibatch_size=64",
         "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=240, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["unit"] == "CPU op (innermost)" and result["cuda_graphs"] is False
    assert result["trainer_args"]["num_envs"] == 8 and result["steps_per_iteration"] == 8 * 16
    assert len(result["per_iteration"]) == 1 and result["per_iteration"][0]["wall_ms"] > 0
    assert all(ms > 0 for ms in result["wall_unprofiled_ms"])
    phases = result["phases"]
    assert set(phases) == {"iteration", "rollout", "update"}
    for phase in phases.values():
        assert phase["wall_ms"] > 0 and phase["count"] > 0
        assert 0 <= phase["busy_fraction"] <= 1
        assert 0 < phase["busy_ms"] <= phase["kernel_ms"] + 1e-6  # innermost ops do not overlap on one thread
    # the iteration is its two phases
    assert phases["rollout"]["count"] + phases["update"]["count"] == phases["iteration"]["count"]
    assert phases["rollout"]["wall_ms"] + phases["update"]["wall_ms"] <= phases["iteration"]["wall_ms"]
    top = result["top"]
    assert 0 < len(top) <= 10 and [r["ms"] for r in top] == sorted((r["ms"] for r in top), reverse=True)
    assert 0 < sum(r["share"] for r in top) <= 1 + 1e-9
    assert "| update |" in done.stdout and "| top CPU ops | count | ms | share |" in done.stdout


def test_trainer_args_reach_the_trainer_parser_and_a_bad_one_is_refused():
    argv = bench_gpu_profile.trainer_argv("breakout", "cpu", ["num_envs=8", "amp=true", "cuda_graphs=false"], "/r")
    assert argv == ["--game", "breakout", "--device", "cpu", "--run-dir", "/r", "--no-export",
                    "--num-envs", "8", "--amp", "--no-cuda-graphs"]
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        bench_gpu_profile.trainer_argv("breakout", "cpu", ["num_envs"], "/r")


def test_a_gpu_trace_is_split_into_phases_by_time_window():
    """A trace in the profiler's Chrome format as a GPU run writes it (kernels, a copy, the gantry.* ranges):
    the GPU side of the summary, which CI has no GPU to produce."""
    def span(cat, name, ts, dur, **args):
        return {"ph": "X", "cat": cat, "name": name, "ts": ts, "dur": dur, "pid": 0, "tid": 7, "args": args}

    events = []
    for start in (0, 1000):  # two iterations of 1000 us: rollout [0, 400), update [400, 1000)
        events += [span("user_annotation", "gantry.iteration", start, 1000),
                   span("user_annotation", "gantry.rollout", start, 400),
                   span("user_annotation", "gantry.update", start + 400, 600),
                   span("gpu_user_annotation", "gantry.rollout", start, 400),  # the GPU's copy of a range: not work
                   span("kernel", "env_step", start + 10, 100, **{"blocks per SM": 0.25}),
                   span("kernel", "conv_fwd", start + 110, 100, **{"blocks per SM": 4.0}),
                   span("gpu_memcpy", "Memcpy DtoH", start + 150, 50, bytes=1024),  # under conv_fwd: counted once
                   span("kernel", "conv_bwd", start + 500, 300, **{"blocks per SM": 2.0}),
                   span("cpu_op", "aten::add", start + 450, 10)]  # host work does not count on a GPU
    summary = bench_gpu_profile.summarize({"traceEvents": events}, on_gpu=True)
    rollout, update, iteration = (summary["phases"][p] for p in ("rollout", "update", "iteration"))
    assert rollout["wall_ms"] == pytest.approx(0.4) and rollout["busy_ms"] == pytest.approx(0.2)
    assert rollout["busy_fraction"] == pytest.approx(0.5) and rollout["count"] == 2
    assert rollout["memcpy_bytes"] == 1024 and rollout["memcpy_count"] == 1
    assert rollout["sm_coverage"] == pytest.approx((0.25 * 100 + 1.0 * 100) / 200)
    assert update["busy_fraction"] == pytest.approx(0.5) and update["count"] == 1 and update["memcpy_bytes"] == 0
    assert iteration["busy_ms"] == pytest.approx(0.5) and iteration["kernel_ms"] == pytest.approx(0.5)
    assert iteration["mean_kernel_us"] == pytest.approx(500 / 3)
    assert [r["name"] for r in summary["top"]] == ["conv_bwd", "env_step", "conv_fwd"]
    assert summary["top"][0]["share"] == pytest.approx(0.6) and summary["top"][0]["count"] == 1
    assert [f["busy_fraction"] for f in summary["per_iteration"]] == pytest.approx([0.5, 0.5])
