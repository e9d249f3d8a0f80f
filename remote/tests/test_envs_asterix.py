"""Asterix rules (MinAtar): spawns on a timer at the edges, gold pays +1, enemies kill, and
every 100 frames the spawn interval (and every other time the move interval) shrinks."""
from test_envs_support import act, get, put, scenario


def test_first_spawn_after_ten_frames_at_an_edge():
    env = scenario("asterix", seed=3)
    for _ in range(10):
        act(env, "noop")
        assert not any(get(env, "ent_present"))
    act(env, "noop")
    present = get(env, "ent_present")
    assert sum(present) == 1
    lane = present.index(True)
    # It spawned at an edge and, frame 11 being a move frame, already took one step inward.
    assert get(env, "ent_x")[lane] == (1 if get(env, "ent_right")[lane] else 8)
    assert get(env, "spawn_timer") == 9


def test_gold_moving_onto_the_player_pays_and_disappears():
    env = scenario("asterix")
    put(env, player_x=5, player_y=3, ent_x=[0, 0, 4, 0, 0, 0, 0, 0], ent_present=[0, 0, 1, 0, 0, 0, 0, 0],
        ent_right=[0, 0, 1, 0, 0, 0, 0, 0], ent_gold=[0, 0, 1, 0, 0, 0, 0, 0], move_timer=0, spawn_timer=5)
    r = act(env, "noop")
    assert r.reward.item() == 1 and not r.terminated.item() and not any(get(env, "ent_present"))


def test_walking_into_an_enemy_ends_the_game():
    env = scenario("asterix")
    put(env, player_x=5, player_y=3, ent_x=[0, 0, 6, 0, 0, 0, 0, 0], ent_present=[0, 0, 1, 0, 0, 0, 0, 0],
        ent_right=[0, 0, 0, 0, 0, 0, 0, 0], move_timer=3, spawn_timer=5)
    assert act(env, "right").terminated.item()


def test_player_stays_between_rows_one_and_eight():
    env = scenario("asterix")
    put(env, spawn_timer=50)
    for _ in range(6):
        act(env, "up")
    assert get(env, "player_y") == 1


def test_difficulty_ramps_every_hundred_frames():
    env = scenario("asterix")
    put(env, ramp_timer=-1, spawn_timer=50)
    act(env, "noop")
    assert (get(env, "spawn_speed"), get(env, "move_speed"), get(env, "ramp_index")) == (9, 5, 1)
    assert get(env, "ramp_timer") == 100
    put(env, ramp_timer=-1)
    act(env, "noop")
    assert (get(env, "spawn_speed"), get(env, "move_speed"), get(env, "ramp_index")) == (8, 4, 2)


def test_ramp_timer_from_reset_reaches_first_ramp_after_101_frames():
    env = scenario("asterix")
    put(env, spawn_timer=10_000)  # nothing spawns, so the player survives
    for _ in range(101):
        act(env, "noop")
    assert get(env, "ramp_index") == 0
    act(env, "noop")
    assert get(env, "ramp_index") == 1 and get(env, "spawn_speed") == 9
