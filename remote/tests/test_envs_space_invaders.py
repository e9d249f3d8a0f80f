"""Space Invaders rules (MinAtar): cannon fire with cool-down, aliens march and step down,
the nearest alien shoots, kills pay +1, waves return faster, bullets and aliens kill."""
import torch
from test_envs_support import act, cell, get, put, scenario

QUIET = dict(move_timer=5, shot_timer_aliens=5)  # no march and no alien shot this frame


def grid(*cells):
    g = torch.zeros(10, 10, dtype=torch.bool)
    for y, x in cells:
        g[y, x] = True
    return g


def test_fire_launches_a_bullet_and_cools_down():
    env = scenario("space_invaders")
    put(env, **QUIET)
    r = act(env, "fire")
    assert cell(r, env, "friendly_bullet", 8, 5) == 1 and get(env, "shot_timer") == 4
    r = act(env, "fire")
    assert r.obs[0, env.channels.index("friendly_bullet")].sum().item() == 1  # still cooling down


def test_shooting_the_last_alien_pays_and_brings_a_faster_wave():
    env = scenario("space_invaders")
    put(env, aliens=grid((4, 5)), friendly_bullets=grid((5, 5)), **QUIET)
    r = act(env, "noop")
    assert r.reward.item() == 1 and not r.terminated.item()
    assert r.obs[0, env.channels.index("alien"), 0:4, 2:8].all() and get(env, "move_interval") == 11
    assert get(env, "ramp_index") == 1


def test_nearest_alien_fires_from_the_bottom_of_its_column_ties_go_left():
    env = scenario("space_invaders")
    put(env, aliens=grid((0, 3), (2, 3), (1, 7)), cannon=5, move_timer=5, shot_timer_aliens=0)
    r = act(env, "noop")
    assert cell(r, env, "enemy_bullet", 2, 3) == 1 and get(env, "shot_timer_aliens") == 9
    r = act(env, "noop")
    assert cell(r, env, "enemy_bullet", 3, 3) == 1  # falls one row a frame


def test_alien_bullet_reaching_the_cannon_ends_the_game():
    env = scenario("space_invaders")
    put(env, enemy_bullets=grid((8, 5)), cannon=5, **QUIET)
    assert act(env, "noop").terminated.item()


def test_march_interval_shrinks_with_few_aliens_and_block_steps_down_at_the_edge():
    env = scenario("space_invaders")
    put(env, aliens=grid((2, 0), (2, 1), (3, 1)), alien_dir=-1, move_timer=0, shot_timer_aliens=5)
    r = act(env, "noop")
    assert r.obs[0, env.channels.index("alien")].nonzero().tolist() == [[3, 0], [3, 1], [4, 1]]
    assert get(env, "alien_dir") == 1 and cell(r, env, "alien_right", 3, 0) == 1
    assert get(env, "move_timer") == 2  # min(3 aliens, 12) - 1
    put(env, move_timer=0)
    r = act(env, "noop")
    assert r.obs[0, env.channels.index("alien")].nonzero().tolist() == [[3, 1], [3, 2], [4, 2]]


def test_aliens_stepping_down_from_the_bottom_row_end_the_game():
    env = scenario("space_invaders")
    put(env, aliens=grid((9, 0)), alien_dir=-1, move_timer=0, shot_timer_aliens=5, cannon=8)
    assert act(env, "noop").terminated.item()
