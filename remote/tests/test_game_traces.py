"""The recorded built-in game traces (replayed by the TypeScript ports in
test/builtinGamePorts.test.ts) still describe the Python games: recording them again gives the
same bytes. A change to a game's rules fails here until the traces are recorded again
(`python remote/tests/record_game_traces.py`) and the TypeScript port is changed to match.

The comparison is of the JSON inside the gzip file: zlib versions may compress the same bytes
differently, the content is what the ports are tested against."""
import gzip
import json

import pytest
from record_game_traces import TRACE_PLANS, encode, fixture_path, record_game

# The rare rules each game's traces must reach (besides episode ends), so a re-recording
# cannot quietly drop what the ports are tested on.
REQUIRED_EVENTS = {
    "breakout": {"wall_restored", "strike_pass"},
    "freeway": {"hit_by_car"},
    "asterix": {"difficulty_ramp", "all_lanes_taken"},
    "seaquest": {"diver_picked_up", "surfaced_with_divers", "surfaced_full_crew", "enemies_speed_up", "enemy_bullet_flying"},
    "space_invaders": {"wave_cleared", "enemy_bullet_flying"},
}
EVERY_GAME = {"rewarded", "terminated", "truncated", "reset", "sticky_repeat"}


def _committed(game: str) -> bytes:
    with open(fixture_path(game), "rb") as f:
        return gzip.decompress(f.read())


@pytest.mark.parametrize("game", sorted(TRACE_PLANS))
def test_recording_again_gives_the_committed_trace(game):
    fresh = encode(record_game(game))
    committed = _committed(game)
    if fresh != committed:
        old, new = json.loads(committed), json.loads(fresh)
        where = "game header"
        for a, b in zip(old["traces"], new["traces"]):
            if a != b:
                field = next(k for k in a if a.get(k) != b.get(k))
                step = next((i for i, (x, y) in enumerate(zip(a[field], b[field])) if x != y), None) if isinstance(a[field], list) else None
                where = "trace %r, field %r, step %s" % (a["name"], field, step)
                break
        pytest.fail(
            "the %s env no longer produces its recorded trace (first difference: %s). If the rules changed "
            "on purpose, run `python remote/tests/record_game_traces.py` and port the change to "
            "src/shared/games/ so the TypeScript replay test passes again." % (game, where)
        )


@pytest.mark.parametrize("game", sorted(TRACE_PLANS))
def test_traces_reach_the_rare_rules(game):
    traces = json.loads(_committed(game))["traces"]
    reached = set().union(*(t["events"] for t in traces))
    required = REQUIRED_EVENTS[game] | EVERY_GAME
    assert required <= reached, "traces of %s miss %s" % (game, sorted(required - reached))
    for trace in traces:
        assert len(trace["ops"]) == len(trace["obs"]) == len(trace["reward"]) == len(trace["terminated"]) == len(trace["truncated"])
