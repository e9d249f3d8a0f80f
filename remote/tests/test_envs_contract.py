"""What the trainer relies on, for every built-in game: shapes, dtypes, seeding, auto-reset,
truncation, stickiness, exact resume through torch.save/weights_only, and no aliasing."""
import io

import numpy as np
import pytest
import torch
from test_envs_support import act, scenario

from gantry_remote.envs import BUILTIN_GAMES, make_builtin

GAMES = sorted(BUILTIN_GAMES)
CHANNELS = {"breakout": 4, "freeway": 7, "space_invaders": 6, "seaquest": 10, "asterix": 4}
ACTIONS = {"breakout": 3, "freeway": 3, "space_invaders": 4, "seaquest": 6, "asterix": 5}


def random_actions(env, steps, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, env.num_actions, (env.num_envs,), generator=g) for _ in range(steps)]


def test_all_five_games_are_registered():
    assert set(GAMES) == set(CHANNELS)


def test_unknown_game_names_the_valid_ids():
    with pytest.raises(ValueError) as info:
        make_builtin("pacman", 4)
    for game in GAMES:
        assert game in str(info.value)


@pytest.mark.parametrize("game", GAMES)
def test_shapes_and_dtypes(game):
    env = make_builtin(game, 6, seed=1)
    assert env.obs_shape == (CHANNELS[game], 10, 10)
    assert env.num_actions == ACTIONS[game] == len(env.action_names)
    obs = env.reset()
    assert obs.shape == (6, CHANNELS[game], 10, 10) and obs.dtype == torch.float32
    r = env.step(torch.zeros(6, dtype=torch.long))
    assert r.obs.shape == obs.shape and r.obs.dtype == torch.float32
    assert set(r.obs.unique().tolist()) <= {0.0, 1.0}
    assert r.reward.shape == (6,) and r.reward.dtype == torch.float32
    assert r.terminated.dtype == torch.bool and r.truncated.dtype == torch.bool
    assert r.episode_return.dtype == torch.float32 and r.episode_length.dtype == torch.int32
    image = env.render(0)
    assert image.dtype == np.uint8 and image.shape[2] == 3 and image.shape[0] == image.shape[1] >= 10
    assert image.any()


@pytest.mark.parametrize("game", GAMES)
def test_same_seed_same_trajectory_other_seed_differs(game):
    a, b, c = (make_builtin(game, 8, seed=s) for s in (3, 3, 4))
    same, differs = True, False
    for actions in random_actions(a, 150, seed=9):
        ra, rb, rc = a.step(actions), b.step(actions), c.step(actions)
        same &= torch.equal(ra.obs, rb.obs) and torch.equal(ra.reward, rb.reward)
        same &= torch.equal(ra.terminated, rb.terminated)
        differs |= not torch.equal(ra.obs, rc.obs)
    assert same and differs


@pytest.mark.parametrize("game", GAMES)
def test_random_play_ends_episodes_and_lengths_add_up(game):
    n = 8
    env = make_builtin(game, n, seed=2)
    steps = 2600 if game == "freeway" else 600  # Freeway always lasts 2501 frames
    finished, length_sum, returns = torch.zeros(n, dtype=torch.bool), 0, []
    last = None
    for actions in random_actions(env, steps, seed=5):
        last = env.step(actions)
        done = last.terminated | last.truncated
        finished |= done
        length_sum += int(last.episode_length.sum())
        returns += last.episode_return[done].tolist()
        assert torch.all(last.episode_return[~done] == 0) and torch.all(last.episode_length[~done] == 0)
    assert finished.all(), "every env should finish an episode under a random policy"
    # Auto-reset: lengths of finished episodes plus the running ones account for every step.
    assert length_sum + int(env._state["ep_length"].sum()) == steps * n
    assert all(r >= 0 for r in returns)
    if game == "freeway":
        assert torch.all(last.episode_length[last.terminated] == 2501)


@pytest.mark.parametrize("game", GAMES)
def test_first_obs_after_game_over_is_a_fresh_start(game):
    if game in ("breakout", "freeway"):
        pytest.skip("start state is randomised (ball side / car speeds)")
    fresh = make_builtin(game, 1, seed=0).reset()
    env = make_builtin(game, 16, seed=6)
    for actions in random_actions(env, 400, seed=1):
        r = env.step(actions)
        if r.terminated.any():
            i = int(r.terminated.nonzero()[0])
            assert torch.equal(r.obs[i], fresh[0])
            return
    pytest.fail("no episode ended")


def test_max_steps_truncates():
    env = make_builtin("freeway", 3, max_steps=5)
    for _ in range(4):
        r = env.step(torch.zeros(3, dtype=torch.long))
        assert not r.truncated.any()
    r = env.step(torch.zeros(3, dtype=torch.long))
    assert r.truncated.all() and not r.terminated.any()
    assert r.episode_length.tolist() == [5, 5, 5]


def test_sticky_actions_repeat_the_previous_action():
    always = scenario("breakout", sticky_p=1.0)
    never = scenario("breakout", sticky_p=0.0)
    for _ in range(3):
        act(always, "right")
        act(never, "right")
    assert always.game_state["paddle"].tolist() == [4]  # noop repeated from the start
    assert never.game_state["paddle"].tolist() == [7]
    some = make_builtin("breakout", 2000, sticky_p=0.25, seed=1)
    act(some, "right")
    act(some, "left")
    back_at_start = (some.game_state["paddle"] == 4).float().mean().item()
    # right-then-left (0.75 * 0.75) or sticky noop twice (0.25 * 0.25) ends where it started.
    assert 0.59 < back_at_start < 0.66


@pytest.mark.parametrize("game", GAMES)
def test_state_dict_round_trip_continues_identically(game):
    env = make_builtin(game, 8, seed=11)
    for actions in random_actions(env, 60, seed=2):
        env.step(actions)
    buffer = io.BytesIO()
    torch.save(env.state_dict(), buffer)
    buffer.seek(0)
    restored = make_builtin(game, 8, seed=999)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    for actions in random_actions(env, 120, seed=3):
        a, b = env.step(actions), restored.step(actions)
        for field in ("obs", "reward", "terminated", "truncated", "episode_return", "episode_length"):
            assert torch.equal(getattr(a, field), getattr(b, field)), field


def test_load_state_dict_rejects_other_batch_size():
    small = make_builtin("asterix", 4)
    with pytest.raises(ValueError, match="--num-envs"):
        make_builtin("asterix", 5).load_state_dict(small.state_dict())


def test_returned_tensors_stay_valid_after_later_steps():
    env = make_builtin("space_invaders", 4, seed=0)
    first = env.step(torch.full((4,), 3, dtype=torch.long))
    kept = first.obs.clone()
    for _ in range(5):
        env.step(torch.full((4,), 1, dtype=torch.long))
    assert torch.equal(first.obs, kept)
