"""`models --json`: models, probes and checkpoints with paths, sizes and verified sha256."""
import hashlib
import os

from conftest import fake_game


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_models_lists_every_artifact_with_true_hashes(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", 30), fake_game("freeway", 20)], slots=2))
    rig.wait_finished(run_id)
    # A file the manifest does not list (copied in by hand) is still reported, hash computed.
    stray = os.path.join(rig.run_path(run_id), "games", "freeway", "models", "freeway-1.onnx")
    with open(stray, "wb") as f:
        f.write(b"hand-copied model")
    records = rig.ok("models", "--run", run_id, "--json")["models"]
    by_kind = {}
    for r in records:
        by_kind.setdefault((r["game"], r["kind"]), []).append(r)
        assert os.path.isabs(r["abs_path"]) and r["abs_path"] == os.path.join(rig.root, r["path"])
        assert r["size"] == os.path.getsize(r["abs_path"])
        assert r["sha256"] == sha(r["abs_path"]), r
        assert r["run_id"] == run_id
    assert len(by_kind[("breakout", "model")]) == 1 and len(by_kind[("breakout", "probe")]) == 1
    assert 1 <= len(by_kind[("breakout", "checkpoint")]) <= 2  # the trainer keeps the last two
    model = by_kind[("breakout", "model")][0]
    assert model["step"] == 30 * 400 and model["mean_return"] is not None and model["episodes"] == 30
    freeway_models = sorted(r["file"] for r in by_kind[("freeway", "model")])
    assert freeway_models == ["freeway-1.onnx", "freeway-8000.onnx"]
    stray_rec = [r for r in records if r["file"] == "freeway-1.onnx"][0]
    assert stray_rec["step"] == 1 and stray_rec["mean_return"] is None
    # Without --run: every run's artifacts.
    assert len(rig.ok("models", "--json")["models"]) == len(records)
    rc, out = rig.cli("models", "--run", "no-such-run")
    assert rc == 2 and out["error"]["code"] == "unknown_run"
