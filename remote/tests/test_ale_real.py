"""The ale backend for real: gymnasium + ale-py (ROMs ship with it) + the Nature CNN, as the
supervisor runs it. envpool has no wheel here; its wrapper is tested against a fake pool."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
if os.environ.get("CI") != "true":
    pytest.importorskip("ale_py", reason="pip install ale-py opencv-python-headless (or bash .ci/run)")

REMOTE = os.path.join(os.path.dirname(__file__), "..")


def test_ppo_on_real_atari_breakout_writes_metrics_checkpoint_and_a_valid_onnx(tmp_path):
    import onnxruntime as ort

    run_dir = tmp_path / "Breakout"
    argv = [sys.executable, "-m", "gantry_remote", "train", "--game", "Breakout", "--backend", "ale",
            "--run-dir", str(run_dir), "--target-episodes", "1000", "--total-steps", "768", "--num-envs", "2",
            "--num-steps", "128", "--minibatch-size", "64", "--update-epochs", "1", "--device", "cpu"]
    done = subprocess.run(argv, cwd=REMOTE, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr

    completed = json.loads((run_dir / "completed.json").read_text())
    assert completed["reason"] == "total_steps" and completed["global_step"] >= 768
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    # A random Breakout game (5 lives) lasts ~150-250 agent steps: a few real games, not one per life.
    assert 1 <= metrics[-1]["episodes"] <= 10
    assert metrics[-1]["mean_return"] is not None and metrics[-1]["mean_return"] >= 0

    manifest = json.loads((run_dir / "models" / "manifest.json").read_text())
    model = manifest["models"][-1]
    probe = json.loads((run_dir / "models" / model["probe"]).read_text())
    assert probe["input_shape"][1:] == [4, 84, 84]
    session = ort.InferenceSession(str(run_dir / "models" / model["file"]), providers=["CPUExecutionProvider"])
    x = np.asarray(probe["input"], dtype=np.float32).reshape(probe["input_shape"])
    out = session.run([probe["output_name"]], {probe["input_name"]: x})[0]
    assert np.max(np.abs(out.ravel() - np.asarray(probe["output"], dtype=np.float32))) <= 1e-4
