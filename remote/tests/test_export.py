"""ONNX export: onnxruntime reproduces the torch logits on the probe input, metadata and manifest."""
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gantry_remote.digest import sha256_file  # noqa: E402
from gantry_remote.export import export_policy  # noqa: E402
from gantry_remote.nets import PolicyLogits, make_agent  # noqa: E402

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def _session(path):
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize(
    "obs_shape,make_obs",
    [
        ((4, 10, 10), lambda g: (torch.rand((4, 10, 10), generator=g) < 0.2).float()),
        ((4, 84, 84), lambda g: torch.randint(0, 256, (4, 84, 84), generator=g).float()),
    ],
    ids=["minatar-grid", "atari-frames"],
)
def test_onnx_matches_torch_on_probe(tmp_path, obs_shape, make_obs):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    agent = make_agent(obs_shape, 5)
    obs = make_obs(g)
    names = ["noop", "left", "right", "fire", "down"]
    entry = export_policy(str(tmp_path), agent, obs, "Breakout", "builtin", names, 1234, 17, 3.5)

    model_path = tmp_path / entry["file"]
    probe = json.loads((tmp_path / entry["probe"]).read_text())
    assert entry["file"] == "breakout-1234.onnx" and entry["probe"] == "breakout-1234.onnx.probe.json"
    assert probe["input_shape"] == [1] + list(obs_shape)
    assert probe["input"] == pytest.approx(obs.flatten().tolist())

    sess = _session(str(model_path))
    x = np.asarray(probe["input"], dtype=np.float32).reshape(probe["input_shape"])
    (out,) = sess.run([probe["output_name"]], {probe["input_name"]: x})
    np.testing.assert_allclose(out.flatten(), np.asarray(probe["output"], dtype=np.float32), atol=1e-4, rtol=0)
    with torch.no_grad():
        torch_out = PolicyLogits(agent)(obs.unsqueeze(0)).numpy()
    np.testing.assert_allclose(out, torch_out, atol=1e-4, rtol=0)

    # The batch dimension is dynamic: a batch of 3 gives 3 rows of logits.
    batch = np.repeat(x, 3, axis=0)
    (out3,) = sess.run(None, {"obs": batch})
    assert out3.shape == (3, 5)

    model = onnx.load(str(model_path))
    assert max(op.version for op in model.opset_import if op.domain in ("", "ai.onnx")) >= 17
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["game"] == "Breakout" and meta["backend"] == "builtin"
    assert json.loads(meta["obs_shape"]) == list(obs_shape)
    assert json.loads(meta["action_names"]) == names
    assert meta["global_step"] == "1234" and json.loads(meta["mean_return"]) == 3.5
    assert meta["gantry_version"]


def test_manifest_hashes_and_keeps_the_newest_three(tmp_path):
    agent = make_agent((2, 10, 10), 3)
    obs = torch.zeros(2, 10, 10)
    for step in (10, 20, 30, 40):
        export_policy(str(tmp_path), agent, obs, "asterix", "builtin", ["a", "b", "c"], step, step, None)
    manifest = json.loads((tmp_path / "manifest.json").read_text())["models"]
    assert [m["global_step"] for m in manifest] == [20, 30, 40]
    for m in manifest:
        assert sha256_file(str(tmp_path / m["file"])) == m["sha256"]
        assert sha256_file(str(tmp_path / m["probe"])) == m["probe_sha256"]
        assert os.path.getsize(tmp_path / m["file"]) == m["size"]
        assert m["mean_return"] is None
    assert not (tmp_path / "asterix-10.onnx").exists() and not (tmp_path / "asterix-10.onnx.probe.json").exists()
