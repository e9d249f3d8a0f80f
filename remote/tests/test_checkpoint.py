"""Checkpoints: atomic files, sha256 manifest of the last two, fallback when the newest is damaged."""
import json
import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gantry_remote.checkpoint import load_latest_checkpoint, prepare_checkpoints, save_checkpoint
from gantry_remote.digest import sha256_file  # noqa: E402


def _state(step):
    return {"global_step": step, "episodes": step // 10, "weights": torch.full((3, 4), float(step)), "rng": torch.get_rng_state()}


def test_keeps_last_two_with_matching_sha256(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    for step in (100, 200, 300):
        save_checkpoint(ckpt, _state(step), global_step=step, episodes=step // 10)
    manifest = json.loads((tmp_path / "ckpt" / "manifest.json").read_text())
    entries = manifest["checkpoints"]
    assert [e["file"] for e in entries] == ["ckpt-200.pt", "ckpt-300.pt"]
    # No temp files left; each checkpoint has a sidecar with its own manifest entry.
    assert sorted(os.listdir(ckpt)) == ["ckpt-200.pt", "ckpt-200.pt.sha256.json", "ckpt-300.pt", "ckpt-300.pt.sha256.json", "manifest.json"]
    for e in entries:
        assert json.loads((tmp_path / "ckpt" / (e["file"] + ".sha256.json")).read_text()) == e
    for e in entries:
        path = os.path.join(ckpt, e["file"])
        assert sha256_file(path) == e["sha256"]
        assert os.path.getsize(path) == e["size"]
    assert entries[-1]["episodes"] == 30 and entries[-1]["global_step"] == 300

    state, entry = load_latest_checkpoint(ckpt)
    assert entry["file"] == "ckpt-300.pt"
    assert torch.equal(state["weights"], torch.full((3, 4), 300.0))


def test_falls_back_to_older_checkpoint_when_newest_is_corrupt(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    save_checkpoint(ckpt, _state(1), global_step=1, episodes=0)
    save_checkpoint(ckpt, _state(2), global_step=2, episodes=0)
    newest = tmp_path / "ckpt" / "ckpt-2.pt"
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, as a bad disk would leave it
    newest.write_bytes(bytes(data))
    messages = []
    state, entry = load_latest_checkpoint(ckpt, log=messages.append)
    assert entry["file"] == "ckpt-1.pt" and state["global_step"] == 1
    assert any("sha256" in m for m in messages)

    (tmp_path / "ckpt" / "ckpt-1.pt").unlink()
    assert load_latest_checkpoint(ckpt, log=messages.append) is None


def test_no_manifest_means_no_checkpoint(tmp_path):
    assert load_latest_checkpoint(str(tmp_path / "missing")) is None


class _Arbitrary:
    pass


def test_loading_refuses_pickled_code(tmp_path):
    """weights_only=True: a checkpoint carrying arbitrary Python objects is rejected, not executed."""
    ckpt = str(tmp_path / "ckpt")
    save_checkpoint(ckpt, {"payload": _Arbitrary()}, global_step=5, episodes=0)
    with pytest.raises(Exception, match="(?i)weights_only|unsupported|global"):
        load_latest_checkpoint(ckpt)


@pytest.mark.parametrize("damage", [b"\x00\x17garbage", b'{"checkpoints": "x"}', b"[1, 2]", b'{"checkpoints": [{"file": 3}]}', b""])
def test_a_damaged_manifest_is_rebuilt_from_the_checkpoints_that_verify(tmp_path, damage):
    ckpt = str(tmp_path / "ckpt")
    for step in (100, 200):
        save_checkpoint(ckpt, _state(step), global_step=step, episodes=step // 10)
    (tmp_path / "ckpt" / "manifest.json").write_bytes(damage)
    messages = []
    prepare_checkpoints(ckpt, log=messages.append)
    entries = json.loads((tmp_path / "ckpt" / "manifest.json").read_text())["checkpoints"]
    assert [(e["file"], e["global_step"], e["episodes"]) for e in entries] == [("ckpt-100.pt", 100, 10), ("ckpt-200.pt", 200, 20)]
    assert any("damaged" in m for m in messages)
    state, entry = load_latest_checkpoint(ckpt)
    assert entry["file"] == "ckpt-200.pt" and state["global_step"] == 200


def test_rebuilding_skips_checkpoints_that_do_not_prove_themselves(tmp_path):
    ckpt = tmp_path / "ckpt"
    for step in (100, 200):
        save_checkpoint(str(ckpt), _state(step), global_step=step, episodes=step // 10)
    (ckpt / "ckpt-700.pt").write_bytes((ckpt / "ckpt-100.pt").read_bytes())  # its name lies about its step
    data = (ckpt / "ckpt-200.pt").read_bytes()
    (ckpt / "ckpt-200.pt").write_bytes(data[: len(data) // 2])  # torn: its sidecar no longer matches
    (ckpt / "manifest.json").write_text("{")
    messages = []
    prepare_checkpoints(str(ckpt), log=messages.append)
    entries = json.loads((ckpt / "manifest.json").read_text())["checkpoints"]
    assert [e["file"] for e in entries] == ["ckpt-100.pt"]
    assert any("ckpt-700.pt records global_step 100" in m for m in messages)
    assert any("ckpt-200.pt does not match its sha256 sidecar" in m for m in messages)
    # What does not verify is not listed, so it is removed with the other unlisted files.
    assert sorted(os.listdir(ckpt)) == ["ckpt-100.pt", "ckpt-100.pt.sha256.json", "manifest.json"]


def test_a_checkpoint_without_a_sidecar_still_verifies_by_loading(tmp_path):
    ckpt = tmp_path / "ckpt"
    save_checkpoint(str(ckpt), _state(100), global_step=100, episodes=10)
    (ckpt / "ckpt-100.pt.sha256.json").unlink()  # written by an older version
    (ckpt / "manifest.json").write_text("not json")
    prepare_checkpoints(str(ckpt), log=lambda m: None)
    assert load_latest_checkpoint(str(ckpt))[1]["file"] == "ckpt-100.pt"


def test_start_removes_temp_files_and_checkpoints_the_manifest_never_listed(tmp_path):
    ckpt = tmp_path / "ckpt"
    save_checkpoint(str(ckpt), _state(100), global_step=100, episodes=10)
    (ckpt / ".tmp-abc123").write_bytes(b"half a checkpoint")  # killed inside atomic.write_bytes
    (ckpt / "ckpt-200.pt").write_bytes(b"written, but killed before the manifest named it")
    messages = []
    prepare_checkpoints(str(ckpt), log=messages.append)
    assert sorted(os.listdir(ckpt)) == ["ckpt-100.pt", "ckpt-100.pt.sha256.json", "manifest.json"]
    assert load_latest_checkpoint(str(ckpt))[1]["file"] == "ckpt-100.pt"
    assert any(".tmp-abc123" in m for m in messages) and any("ckpt-200.pt" in m for m in messages)


def test_non_finite_weights_are_never_checkpointed_and_the_last_good_one_stays(tmp_path):
    from gantry_remote.nets import make_agent

    ckpt = str(tmp_path / "ckpt")
    agent = make_agent((4, 10, 10), 3)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3)
    save_checkpoint(ckpt, {"agent": agent.state_dict(), "optimizer": optimizer.state_dict(), "global_step": 100,
                           "episodes": 10}, global_step=100, episodes=10)
    with torch.no_grad():
        next(agent.parameters())[0].fill_(float("nan"))  # what a diverged update leaves
    with pytest.raises(FloatingPointError, match=r"non-finite values in agent\..* at step 200"):
        save_checkpoint(ckpt, {"agent": agent.state_dict(), "optimizer": optimizer.state_dict(), "global_step": 200,
                               "episodes": 20}, global_step=200, episodes=20)
    state, entry = load_latest_checkpoint(ckpt)
    assert entry["file"] == "ckpt-100.pt" and not os.path.exists(os.path.join(ckpt, "ckpt-200.pt"))
    assert all(torch.isfinite(t).all() for t in state["agent"].values() if t.is_floating_point())
