"""Checkpoints: atomic files, sha256 manifest of the last two, fallback when the newest is damaged."""
import json
import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gantry_remote.checkpoint import load_latest_checkpoint, save_checkpoint
from gantry_remote.digest import sha256_file  # noqa: E402


def _state(step):
    return {"global_step": step, "weights": torch.full((3, 4), float(step)), "rng": torch.get_rng_state()}


def test_keeps_last_two_with_matching_sha256(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    for step in (100, 200, 300):
        save_checkpoint(ckpt, _state(step), global_step=step, episodes=step // 10)
    manifest = json.loads((tmp_path / "ckpt" / "manifest.json").read_text())
    entries = manifest["checkpoints"]
    assert [e["file"] for e in entries] == ["ckpt-200.pt", "ckpt-300.pt"]
    assert sorted(os.listdir(ckpt)) == ["ckpt-200.pt", "ckpt-300.pt", "manifest.json"]  # no temp files left
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
