import json
import os

import pytest

from gantry_remote import atomic


def test_write_json_round_trip_and_overwrite(tmp_path):
    target = tmp_path / "state.json"
    atomic.write_json(str(target), {"a": 1})
    atomic.write_json(str(target), {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_failed_rename_keeps_old_content_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    atomic.write_json(str(target), {"good": True})

    def broken_replace(src, dst):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic.write_json(str(target), {"good": False})
    assert json.loads(target.read_text()) == {"good": True}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_read_json_default_when_missing(tmp_path):
    assert atomic.read_json(str(tmp_path / "nope.json"), default={}) == {}
