"""The golden protocol fixture (also parsed by the desktop's zod schemas) and real journals agree."""
import json
import os

from conftest import TESTS, assert_journal_sound, fake_game

from gantry_remote.protocol import EVENT_FIELDS, problems

FIXTURE = os.path.join(TESTS, "fixtures", "events.v1.jsonl")


def fixture_events():
    with open(FIXTURE, "rb") as f:
        return [json.loads(line) for line in f.read().splitlines()]


def test_fixture_covers_every_event_type_and_conforms():
    events = fixture_events()
    assert {e["type"] for e in events} == set(EVENT_FIELDS)
    assert [(i, problems(e)) for i, e in enumerate(events) if problems(e)] == []
    journaled = [e["seq"] for e in events if not e.get("transient")]
    assert journaled == list(range(1, len(journaled) + 1))
    transient = [e for e in events if e.get("transient")]
    assert transient and all(e["type"] == "heartbeat" for e in transient)


def test_problems_catches_drift():
    good = fixture_events()[3]
    assert problems(good) == []
    assert problems({k: v for k, v in good.items() if k != "attempt"}) == ["game_started: missing attempt"]
    assert problems(dict(good, type="game_exploded")) == ["unknown type 'game_exploded'"]
    assert problems(dict(fixture_events()[8], cause="gremlins")) == ["cause 'gremlins'"]


def test_real_supervisor_journal_conforms(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", 30), fake_game("freeway", 10, fake_crash_at=4)],
                                slots=2, gpu_sample_s=0.2))
    rig.wait_finished(run_id)
    events = rig.events(run_id)
    assert_journal_sound(events)
    assert {"run_started", "supervisor_started", "game_queued", "game_started", "progress", "checkpoint",
            "model_exported", "game_restarting", "game_completed", "gpu_unavailable", "run_completed"} <= {e["type"] for e in events}
