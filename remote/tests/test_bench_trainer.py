"""bench/bench_trainer.py run small on CPU: a real trainer per game, and the start-up it reports
(the seconds to the first metrics line and the trainer's own phases from train.log)."""
import json
import os
import subprocess
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(TESTS))


def test_learning_check_reports_the_start_up_of_each_run(tmp_path):
    done = subprocess.run(
        [sys.executable, os.path.join(REPO, "bench", "bench_trainer.py"), "--device", "cpu", "--games", "breakout",
         "--steps", "512", "--trainers", "0", "--num-envs", "8", "--num-steps", "32", "--minibatch-size", "128",
         "--extra=--update-epochs 2 --no-export", "--out", str(tmp_path), "--no-append"],
        cwd=REPO, capture_output=True, text=True, timeout=240, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    run = json.loads((tmp_path / "bench_trainer.json").read_text())["results"][0]
    assert run["exit"] == 0 and run["steps"] == 512
    assert 0 < run["first_update_s"] <= run["first_metrics_s"] + 1.0 < run["wall_s"] + 1.0
    phases = run["startup_phases"]
    assert list(phases)[0] == "python and imports" and "GAE and first update epoch" in phases
    assert abs(sum(phases.values()) - run["first_update_s"]) <= 0.05 * len(phases)
    assert "| breakout alone, seed 1 | 512 |" in done.stdout
