"""Freeway rules (MinAtar): the chicken moves every 3 frames, a car sends it back to the
bottom, crossing pays +1 and re-draws every car's speed, the game lasts 2500 frames."""
import torch
from test_envs_support import act, cell, get, put, scenario

PARKED = dict(car_x=[0] * 8, car_timer=[5] * 8, car_velocity=[5] * 8)  # far from column 4


def test_chicken_moves_only_every_third_frame():
    env = scenario("freeway")
    put(env, move_timer=0, **PARKED)
    ys = []
    for _ in range(4):
        act(env, "up")
        ys.append(get(env, "chicken_y"))
    assert ys == [8, 8, 8, 7]


def test_car_driving_into_the_chicken_pushes_it_back_to_the_bottom():
    env = scenario("freeway")
    lanes = dict(PARKED)
    lanes["car_x"] = [0, 0, 3, 0, 0, 0, 0, 0]
    lanes["car_timer"] = [5, 5, 0, 5, 5, 5, 5, 5]
    lanes["car_velocity"] = [5, 5, 1, 5, 5, 5, 5, 5]
    put(env, chicken_y=3, move_timer=2, **lanes)
    r = act(env, "noop")
    assert get(env, "chicken_y") == 9 and r.reward.item() == 0
    assert cell(r, env, "car", 3, 4) == 1 and cell(r, env, "speed1", 3, 3) == 1


def test_crossing_pays_one_and_redraws_car_speeds():
    env = scenario("freeway", seed=4)
    put(env, chicken_y=1, move_timer=0, **PARKED)
    r = act(env, "up")
    assert r.reward.item() == 1 and get(env, "chicken_y") == 9
    velocity = get(env, "car_velocity")
    assert velocity != [5] * 8 and all(1 <= abs(v) <= 5 for v in velocity)
    assert get(env, "car_timer") == [abs(v) - 1 for v in velocity]
    assert get(env, "car_x") == [0] * 8  # positions are kept, only speeds change


def test_cars_wrap_around_and_trail_shows_speed_and_direction():
    env = scenario("freeway")
    lanes = dict(PARKED)
    lanes["car_x"] = [0, 9, 0, 0, 0, 0, 0, 0]
    lanes["car_timer"] = [0, 0, 5, 5, 5, 5, 5, 5]
    lanes["car_velocity"] = [-2, 3, 5, 5, 5, 5, 5, 5]
    put(env, **lanes)
    r = act(env, "noop")
    assert get(env, "car_x")[:2] == [9, 0]
    assert cell(r, env, "speed2", 1, 0) == 1  # moving left: trail on the right (wrapped)
    assert cell(r, env, "speed3", 2, 9) == 1  # moving right: trail on the left (wrapped)


def test_game_ends_after_2500_frames():
    env = scenario("freeway")
    put(env, time_left=1)
    assert not act(env, "noop").terminated.item()
    r = act(env, "noop")
    assert r.terminated.item() and r.episode_length.item() == 2


def test_observation_matches_minatars_drawing_for_many_states():
    # MinAtar's Freeway.state(), cell by cell: the chicken at (y, 4); each lane's car at
    # (lane + 1, x) and its trail one cell behind (wrapping) in the channel of its speed.
    # Random states far from what play reaches, so no shortcut in the batched drawing hides.
    num_envs = 256
    env = scenario("freeway", num_envs=num_envs)
    generator = torch.Generator().manual_seed(5)
    state = {
        "chicken_y": torch.randint(1, 10, (num_envs,), generator=generator, dtype=torch.int32),
        "car_x": torch.randint(0, 10, (num_envs, 8), generator=generator, dtype=torch.int32),
        "car_velocity": torch.randint(1, 6, (num_envs, 8), generator=generator, dtype=torch.int32)
        * (torch.randint(0, 2, (num_envs, 8), generator=generator, dtype=torch.int32) * 2 - 1),
    }
    obs = env._observe(state)
    assert obs.dtype == torch.bool and obs.shape == (num_envs, 7, 10, 10)
    for i in range(num_envs):
        expected = torch.zeros((7, 10, 10), dtype=torch.bool)
        expected[0, state["chicken_y"][i], 4] = True
        for lane in range(8):
            x, velocity = int(state["car_x"][i, lane]), int(state["car_velocity"][i, lane])
            expected[1, lane + 1, x] = True
            back_x = (x - 1 if velocity > 0 else x + 1) % 10
            expected[1 + abs(velocity), lane + 1, back_x] = True
        assert torch.equal(obs[i], expected), "env %d: %s" % (i, {k: v[i].tolist() for k, v in state.items()})
