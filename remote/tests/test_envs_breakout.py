"""Breakout rules (MinAtar): walls and ceiling reflect, paddle bounces, bricks pay +1 and
come back as a new wall, missing the ball ends the game."""
import torch
from test_envs_support import act, cell, get, put, scenario

from gantry_remote.envs.breakout import FULL_WALL

UP_LEFT, UP_RIGHT, DOWN_RIGHT, DOWN_LEFT = range(4)


def ball(env):
    return get(env, "ball_y"), get(env, "ball_x"), get(env, "ball_dir")


def test_side_wall_reflects():
    env = scenario("breakout")
    put(env, ball_y=6, ball_x=0, ball_dir=UP_LEFT, last_y=7, last_x=1)
    r = act(env, "noop")
    assert ball(env) == (5, 0, UP_RIGHT) and r.reward.item() == 0
    assert cell(r, env, "trail", 6, 0) == 1 and cell(r, env, "ball", 5, 0) == 1


def test_ceiling_reflects():
    env = scenario("breakout")
    put(env, ball_y=0, ball_x=5, ball_dir=UP_RIGHT, bricks=0)
    act(env, "noop")
    assert ball(env) == (0, 6, DOWN_RIGHT)


def test_brick_breaks_for_one_point_and_ball_bounces_back():
    env = scenario("breakout")
    put(env, ball_y=4, ball_x=5, ball_dir=UP_LEFT)
    r = act(env, "noop")
    assert r.reward.item() == 1
    assert ball(env) == (4, 4, DOWN_LEFT)
    assert cell(r, env, "brick", 3, 4) == 0 and cell(r, env, "brick", 3, 5) == 1
    assert r.obs[0, env.channels.index("brick")].sum().item() == 29


def test_ball_right_after_a_strike_passes_into_the_next_brick():
    env = scenario("breakout")
    put(env, ball_y=4, ball_x=5, ball_dir=UP_LEFT, strike=True)
    r = act(env, "noop")
    assert r.reward.item() == 0 and ball(env) == (3, 4, UP_LEFT)
    assert cell(r, env, "brick", 3, 4) == 1


def test_paddle_straight_below_sends_ball_back_up():
    env = scenario("breakout")
    put(env, ball_y=8, ball_x=4, ball_dir=DOWN_RIGHT, paddle=4)
    r = act(env, "noop")
    assert not r.terminated.item() and ball(env) == (8, 5, UP_RIGHT)


def test_paddle_edge_hit_reverses_horizontal_direction():
    env = scenario("breakout")
    put(env, ball_y=8, ball_x=3, ball_dir=DOWN_RIGHT, paddle=4)
    r = act(env, "noop")
    assert not r.terminated.item() and ball(env) == (8, 4, UP_LEFT)


def test_paddle_moves_and_stops_at_the_wall():
    env = scenario("breakout")
    put(env, ball_y=6, ball_x=6, ball_dir=UP_LEFT, bricks=0)  # keep the ball away from the bottom
    for _ in range(6):
        act(env, "left")
    assert get(env, "paddle") == 0
    act(env, "right")
    assert get(env, "paddle") == 1


def test_missing_the_ball_ends_the_game_and_reports_the_episode():
    env = scenario("breakout")
    act(env, "noop")
    put(env, ball_y=8, ball_x=0, ball_dir=DOWN_RIGHT, paddle=6)
    r = act(env, "noop")
    assert r.terminated.item() and r.episode_length.item() == 2 and r.episode_return.item() == 0
    assert get(env, "ball_y") == 3 and get(env, "bricks") == FULL_WALL  # auto-reset


def test_cleared_wall_is_rebuilt_when_ball_reaches_the_bottom():
    env = scenario("breakout")
    put(env, ball_y=8, ball_x=4, ball_dir=DOWN_RIGHT, paddle=4, bricks=0)
    r = act(env, "noop")
    assert get(env, "bricks") == FULL_WALL and r.reward.item() == 0
    assert r.obs[0, env.channels.index("brick"), 1:4].sum().item() == 30


def test_observation_matches_minatars_drawing_for_many_states():
    # MinAtar's Breakout.state(), cell by cell: paddle on the bottom row, ball, its trail (last
    # position), and one brick cell per set bit of the mask. Random states, including positions
    # off the grid (drawn nowhere), so no shortcut in the batched drawing hides.
    num_envs = 256
    env = scenario("breakout", num_envs=num_envs)
    generator = torch.Generator().manual_seed(5)
    state = {k: torch.randint(-1, 11, (num_envs,), generator=generator, dtype=torch.int32)
             for k in ("paddle", "ball_x", "ball_y", "last_x", "last_y")}
    state["bricks"] = torch.randint(0, 1 << 30, (num_envs,), generator=generator, dtype=torch.int32)
    obs = env._observe(state)
    assert obs.dtype == torch.bool and obs.shape == (num_envs, 4, 10, 10)
    for i in range(num_envs):
        expected = torch.zeros((4, 10, 10), dtype=torch.bool)
        v = {k: int(t[i]) for k, t in state.items()}
        for channel, (y, x) in enumerate([(9, v["paddle"]), (v["ball_y"], v["ball_x"]), (v["last_y"], v["last_x"])]):
            if 0 <= y < 10 and 0 <= x < 10:
                expected[channel, y, x] = True
        for bit in range(30):
            expected[3, 1 + bit // 10, bit % 10] = bool((v["bricks"] >> bit) & 1)
        assert torch.equal(obs[i], expected), "env %d: %s" % (i, v)
