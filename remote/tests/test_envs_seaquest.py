"""Seaquest rules (MinAtar): oxygen runs down under water, divers are picked up, surfacing
refills oxygen (and ramps difficulty), surfacing empty-handed or running out of air ends the
game, shots kill fish for +1, enemy subs shoot, contact kills."""
from test_envs_support import act, cell, get, put, scenario

CALM = dict(e_spawn_timer=50, d_spawn_timer=50)  # nothing spawns during the scenario


def one_slot(k, **values):
    """Field values for slot 0 of a k-slot object array."""
    return {name: [value] + [0] * (k - 1) for name, value in values.items()}


def test_oxygen_runs_down_under_water_and_running_out_ends_the_game():
    env = scenario("seaquest")
    put(env, sub_y=4, surfaced=False, **CALM)
    r = act(env, "noop")
    assert get(env, "oxygen") == 199 and r.obs[0, env.channels.index("oxygen_gauge"), 9].sum().item() == 9
    put(env, oxygen=0)
    assert not act(env, "noop").terminated.item()  # oxygen is now -1 ...
    assert act(env, "noop").terminated.item()  # ... which ends the game on the next frame


def test_surfacing_without_divers_ends_the_game():
    env = scenario("seaquest")
    put(env, sub_y=1, surfaced=False, **CALM)
    assert act(env, "up").terminated.item()


def test_surfacing_with_divers_costs_one_refills_oxygen_and_ramps():
    env = scenario("seaquest")
    put(env, sub_y=1, surfaced=False, divers_on_board=2, oxygen=60, **CALM)
    r = act(env, "up")
    assert not r.terminated.item() and r.reward.item() == 0
    assert (get(env, "divers_on_board"), get(env, "oxygen")) == (1, 200)
    assert (get(env, "e_spawn_speed"), get(env, "ramp_index")) == (19, 1)
    assert not act(env, "noop").terminated.item()  # staying on the surface is free


def test_surfacing_with_six_divers_pays_for_the_oxygen_left():
    env = scenario("seaquest")
    put(env, sub_y=1, surfaced=False, divers_on_board=6, oxygen=150, **CALM)
    r = act(env, "up")
    assert r.reward.item() == 150 * 10 // 200
    assert get(env, "divers_on_board") == -1  # as published: emptied, then one subtracted


def test_moving_onto_a_diver_picks_it_up():
    env = scenario("seaquest")
    put(env, sub_y=3, sub_x=5, surfaced=False, **CALM,
        **one_slot(4, diver_x=4, diver_y=3, diver_present=True, diver_move_timer=3))
    r = act(env, "left")
    assert get(env, "divers_on_board") == 1 and not any(get(env, "diver_present"))
    assert r.obs[0, env.channels.index("diver_gauge"), 9].nonzero().flatten().tolist() == [8]


def test_torpedo_kills_a_fish_for_one_point():
    env = scenario("seaquest")
    put(env, sub_y=4, sub_x=5, sub_right=True, surfaced=False, **CALM,
        **one_slot(40, enemy_x=7, enemy_y=4, enemy_present=True, enemy_move_timer=3))
    r = act(env, "fire")
    assert cell(r, env, "friendly_bullet", 4, 6) == 1 and cell(r, env, "enemy_fish", 4, 7) == 1
    r = act(env, "noop")
    assert r.reward.item() == 1 and not any(get(env, "enemy_present"))
    assert r.obs[0, env.channels.index("friendly_bullet")].sum().item() == 0


def test_fish_swimming_into_the_sub_ends_the_game():
    env = scenario("seaquest")
    put(env, sub_y=4, sub_x=5, surfaced=False, **CALM,
        **one_slot(40, enemy_x=6, enemy_y=4, enemy_present=True, enemy_move_timer=0))
    assert act(env, "noop").terminated.item()


def test_enemy_sub_fires_a_bullet_that_flies_ahead():
    env = scenario("seaquest")
    put(env, sub_y=1, sub_x=9, surfaced=False, **CALM,
        **one_slot(40, enemy_x=3, enemy_y=6, enemy_present=True, enemy_is_sub=True, enemy_right=True,
                   enemy_move_timer=3, enemy_shot_timer=0))
    r = act(env, "noop")
    assert cell(r, env, "enemy_bullet", 6, 4) == 1 and cell(r, env, "enemy_sub", 6, 3) == 1
    assert cell(r, env, "trail", 6, 2) == 1
    r = act(env, "noop")
    assert cell(r, env, "enemy_bullet", 6, 5) == 1


def test_enemies_and_divers_spawn_on_their_timers():
    env = scenario("seaquest", seed=5)
    for _ in range(20):
        act(env, "noop")
    assert not any(get(env, "enemy_present"))
    act(env, "noop")
    assert sum(get(env, "enemy_present")) == 1 and get(env, "enemy_x")[0] in (0, 9)
    assert 1 <= get(env, "enemy_y")[0] <= 8
    for _ in range(9):
        act(env, "noop")
    assert not any(get(env, "diver_present"))
    act(env, "noop")
    assert sum(get(env, "diver_present")) == 1
