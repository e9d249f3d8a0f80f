"""Records step-by-step traces of the built-in games for the TypeScript ports to replay.

Each trace follows one env (index `env_index` of a vector of `num_envs`, so the env key is
the one a trainer's env k would get) from construction through a fixed list of operations
(actions, and `reset()` calls), and keeps everything the port must reproduce exactly: every
observation (bit-packed, hex), reward, termination and truncation, and where an episode ends
its last frame (the env's step returns the next episode's first one instead). Actions come
from simple game-aware policies with random noise, chosen so the traces reach the rare rules
too (walls restored, crossings, difficulty ramps, surfacing with divers, cleared waves); the
counts of those events are written next to each trace so a reader can see what it exercises.

Run `python remote/tests/record_game_traces.py` to rewrite the fixtures after a deliberate
change to a game's rules; test_game_traces.py fails while they are out of date.
"""
import gzip
import json
import os
import sys
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(TESTS))

from gantry_remote.envs import BUILTIN_GAMES, make_builtin  # noqa: E402
from gantry_remote.envs.base import STICKY_STREAM, TRANSITION_STREAMS, Draws  # noqa: E402

FIXTURE_DIR = os.path.join(TESTS, "fixtures", "game_traces")
FORMAT = 1

# A policy sees one env's rule state (numpy arrays) and a random generator, returns an action index.
Policy = Callable[[Dict[str, np.ndarray], np.random.Generator], int]


def _toward(delta: int, minus: int, plus: int, stay: int) -> int:
    return plus if delta > 0 else minus if delta < 0 else stay


def breakout_policy(s, rng) -> int:
    # NOOP, LEFT, RIGHT: follow the ball (long episodes that clear whole walls).
    if rng.random() < 0.05:
        return int(rng.integers(3))
    heading = 1 if int(s["ball_dir"]) in (1, 2) else -1
    return _toward(int(s["ball_x"]) + heading - int(s["paddle"]), 1, 2, 0)


def freeway_policy(s, rng) -> int:
    # NOOP, UP, DOWN: mostly up, so the chicken crosses, is hit, and plays to the time limit.
    return 1 if rng.random() < 0.7 else int(rng.integers(3))


def asterix_policy(s, rng) -> int:
    # NOOP, LEFT, UP, RIGHT, DOWN: step to the neighbouring cell with the fewest enemies
    # near it, preferring gold, so episodes live long enough for the difficulty ramps.
    px, py = int(s["player_x"]), int(s["player_y"])
    scores = []
    for action, dx, dy in [(0, 0, 0), (1, -1, 0), (2, 0, -1), (3, 1, 0), (4, 0, 1)]:
        x, y = min(max(px + dx, 0), 9), min(max(py + dy, 1), 8)
        score = -2.0 if x in (0, 9) else 0.0  # entities spawn on the edge columns
        for lane in range(8):
            if not s["ent_present"][lane] or lane + 1 != y:
                continue
            ex = int(s["ent_x"][lane])
            heading = 1 if s["ent_right"][lane] else -1
            distance = abs(ex - x)
            approaching = (x - ex) * heading >= 0
            if s["ent_gold"][lane]:
                score += 3.0 - distance if distance < 3 else 0.0
            elif distance == 0 or (approaching and distance <= 2):
                score -= 10.0 - 3 * distance
        scores.append((score, action))
    safe = [a for score, a in scores if score > -2] or [max(scores)[1]]
    if rng.random() < 0.2:
        return int(rng.choice(safe))
    return max(scores, key=lambda sa: sa[0] + rng.random() * 0.1)[1]


def seaquest_policy(s, rng) -> int:
    # NOOP, LEFT, UP, RIGHT, DOWN, FIRE: collect divers, shoot what shares the sub's row,
    # surface when oxygen runs low or the sub is full; never step next to an enemy or an
    # enemy bullet (long dives that bring up a full crew of six).
    x, y = int(s["sub_x"]), int(s["sub_y"])
    carried, oxygen = int(s["divers_on_board"]), int(s["oxygen"])
    threats = [(int(ex), int(ey)) for ex, ey, p in zip(s["enemy_x"], s["enemy_y"], s["enemy_present"]) if p]
    threats += [(int(bx), int(by)) for bx, by, p in zip(s["ebullet_x"], s["ebullet_y"], s["ebullet_present"]) if p]
    after = {0: (x, y), 1: (max(x - 1, 0), y), 2: (x, max(y - 1, 0)), 3: (min(x + 1, 9), y), 4: (x, min(y + 1, 8)), 5: (x, y)}
    safe = [a for a, (nx, ny) in after.items() if not any(ty == ny and abs(tx - nx) <= 1 for tx, ty in threats)] or [0]

    def choose(action: int) -> int:
        return action if action in safe else int(rng.choice(safe))

    if rng.random() < 0.1:
        return int(rng.choice(safe))
    if y > 0 and carried > 0 and (oxygen < 12 * y + 20 or carried >= 6):
        return choose(2)
    if y == 0:
        return choose(4)
    in_row = [tx for tx, ty in threats[: int(np.sum(s["enemy_present"]))] if ty == y]
    if in_row:
        target = min(in_row, key=lambda ex: abs(ex - x))
        if (target > x) == bool(s["sub_right"]) and int(s["shot_timer"]) == 0:
            return choose(5)
        return choose(3 if target > x else 1)
    divers = [(int(dx), int(dy)) for dx, dy, p in zip(s["diver_x"], s["diver_y"], s["diver_present"]) if p]
    if divers:
        dx, dy = min(divers, key=lambda d: abs(d[0] - x) + abs(d[1] - y))
        if dy != y:
            return choose(4 if dy > y else 2)
        return choose(_toward(dx - x, 1, 3, 0))
    return int(rng.choice(safe))


def space_invaders_policy(s, rng) -> int:
    # NOOP, LEFT, RIGHT, FIRE: never step under a bullet about to land, stand under the
    # nearest alien column and fire; wait for the last, fast aliens at the left edge (long
    # episodes that clear whole waves).
    pos = int(s["cannon"])
    landing = s["enemy_bullets"][6:9].any(axis=0) | s["aliens"][8:10].any(axis=0)
    after = {0: pos, 1: max(pos - 1, 0), 2: min(pos + 1, 9), 3: pos}
    safe = [a for a in range(4) if not landing[after[a]]] or [0]
    if rng.random() < 0.2:
        return int(rng.choice(safe))
    columns = np.nonzero(s["aliens"].any(axis=0))[0]
    target = int(columns[np.argmin(np.abs(columns - pos))]) if len(columns) else pos
    if s["aliens"].sum() <= 2:  # the last ones move every frame; wait where they step down
        target = 0
        if pos == 0:
            return 3 if int(s["shot_timer"]) == 0 and 3 in safe else safe[0]
    wanted = (3 if int(s["shot_timer"]) == 0 else 0) if target == pos else _toward(target - pos, 1, 2, 0)
    return wanted if wanted in safe else int(rng.choice(safe))


def random_policy_for(num_actions: int) -> Policy:
    def policy(s, rng) -> int:
        return int(rng.integers(num_actions))

    return policy


POLICIES: Dict[str, Policy] = {
    "breakout": breakout_policy,
    "freeway": freeway_policy,
    "asterix": asterix_policy,
    "seaquest": seaquest_policy,
    "space_invaders": space_invaders_policy,
}


def _events(game: str, before: Dict[str, np.ndarray], after: Dict[str, np.ndarray], reward: float, done: bool) -> List[str]:
    """Names of the rare rules this step exercised (for the trace's summary, not for replay)."""
    names = []
    if game == "breakout" and not done and after["bricks"] == (1 << 30) - 1 and before["bricks"] != (1 << 30) - 1:
        names.append("wall_restored")
    if game == "breakout" and not done and before["strike"] and after["strike"]:
        names.append("strike_pass")  # a ball that just broke a brick passed through the next
    if game == "freeway" and not done and reward == 0 and after["chicken_y"] == 9 and before["chicken_y"] != 9:
        names.append("hit_by_car")
    if game == "asterix" and not done and after["ramp_index"] > before["ramp_index"]:
        names.append("difficulty_ramp")
    if game == "asterix" and not done and after["ent_present"].all():
        names.append("all_lanes_taken")  # the next spawn finds no free lane
    if game == "seaquest" and not done:
        if after["divers_on_board"] > before["divers_on_board"]:
            names.append("diver_picked_up")
        if after["oxygen"] == 200 and before["oxygen"] < 200 and before["sub_y"] > 0:
            names.append("surfaced_with_divers")
        if before["divers_on_board"] == 6 and after["divers_on_board"] == -1:
            names.append("surfaced_full_crew")
        if after["move_speed"] < before["move_speed"]:
            names.append("enemies_speed_up")
        if after["ebullet_present"].any():
            names.append("enemy_bullet_flying")
    if game == "space_invaders" and not done:
        if reward > 0 and after["aliens"].sum() == 24:
            names.append("wave_cleared")
        if after["enemy_bullets"].any():
            names.append("enemy_bullet_flying")
    return names


def _pack(obs: torch.Tensor) -> str:
    values = obs.numpy().reshape(-1)
    if not np.isin(values, (0.0, 1.0)).all():
        raise ValueError("an observation holds values other than 0 and 1; bit-packing would lose them")
    return np.packbits(values.astype(bool)).tobytes().hex()


def _state_of(env, index: int) -> Dict[str, np.ndarray]:
    return {k: v[index].cpu().numpy().copy() for k, v in env.game_state.items()}


def _sticky_draw(env, state) -> torch.Tensor:
    """Which envs the step from `state` makes repeat their previous action (base.py's draw)."""
    return Draws.for_step(env._env_keys, state["counter"]).uniform(STICKY_STREAM) < env.sticky_p


def _frame_before_reset(env, state, actions: torch.Tensor, index: int):
    """What env.step(actions) from `state` computes for env `index` before an ended episode is
    replaced by a fresh one (the step keeps only the fresh observation): the episode's last
    frame, its reward and termination. The first lines of BuiltinGame._step_pure, run on the
    env's own rule functions (pure: the step never wrote into `state`)."""
    draws = Draws.for_step(env._env_keys, state["counter"])
    taken = torch.where(_sticky_draw(env, state), state["last_action"], actions)
    game, reward, terminated = env._transition(state["game"], env._code_table[taken], draws.streams_from(TRANSITION_STREAMS))
    return env._observe(game)[index].to(torch.float32), float(reward[index]), bool(terminated[index])


def record_trace(game: str, name: str, seed: int, num_envs: int, env_index: int, sticky_p: float,
                 max_steps: int, steps: int, policy: Optional[Policy], action_seed: int,
                 reset_at: tuple = ()) -> dict:
    """One trace. `policy` None means uniform random actions; `reset_at` lists step numbers
    before which `env.reset()` is called (the op list shows it as "reset")."""
    env = make_builtin(game, num_envs, seed=seed, sticky_p=sticky_p, max_steps=max_steps)
    rng = np.random.default_rng(action_seed)
    policy = policy or random_policy_for(env.num_actions)
    obs = env.reset()
    trace = {
        "name": name, "seed": seed, "num_envs": num_envs, "env_index": env_index,
        "sticky_p": sticky_p, "max_steps": max_steps, "initial_obs": _pack(obs[env_index]),
        "ops": [], "obs": [], "reward": [], "terminated": [], "truncated": [],
        "final_obs": [],  # the episode's last frame where it ended, else null
    }
    counts: Dict[str, int] = {}
    for t in range(steps):
        if t in reset_at:
            obs = env.reset()
            trace["ops"].append("reset")
            trace["obs"].append(_pack(obs[env_index]))
            trace["reward"].append(0.0)
            trace["terminated"].append(False)
            trace["truncated"].append(False)
            trace["final_obs"].append(None)
            counts["reset"] = counts.get("reset", 0) + 1
            continue
        before = _state_of(env, env_index)
        # The other envs' actions cannot affect this one's; they stand still.
        actions = torch.zeros(num_envs, dtype=torch.int64)
        actions[env_index] = policy(before, rng)
        prior = env._state
        if _sticky_draw(env, prior)[env_index] and int(prior["last_action"][env_index]) != int(actions[env_index]):
            counts["sticky_repeat"] = counts.get("sticky_repeat", 0) + 1
        result = env.step(actions)
        reward = float(result.reward[env_index])
        terminated, truncated = bool(result.terminated[env_index]), bool(result.truncated[env_index])
        final_obs = None
        if terminated or truncated:
            frame, final_reward, final_terminated = _frame_before_reset(env, prior, actions, env_index)
            if (final_reward, final_terminated) != (reward, terminated):
                raise AssertionError("_frame_before_reset no longer follows BuiltinGame._step_pure (step %d of %r)" % (t, name))
            final_obs = _pack(frame)
        trace["final_obs"].append(final_obs)
        trace["ops"].append(int(actions[env_index]))
        trace["obs"].append(_pack(result.obs[env_index]))
        trace["reward"].append(reward)
        trace["terminated"].append(terminated)
        trace["truncated"].append(truncated)
        happened = _events(game, before, _state_of(env, env_index), reward, terminated or truncated)
        happened += ["terminated"] * terminated + ["truncated"] * truncated + ["rewarded"] * (reward != 0)
        for event in happened:
            counts[event] = counts.get(event, 0) + 1
    trace["events"] = dict(sorted(counts.items()))
    return trace


# (name, seed, num_envs, env_index, sticky_p, max_steps, steps, policy?, action_seed, reset_at)
TRACE_PLANS = {
    "breakout": [
        ("random, default sticky", 0, 1, 0, 0.1, 10_000, 300, False, 1, (150,)),
        ("policy, env 2 of 8, no sticky", 12345, 8, 2, 0.0, 10_000, 1500, True, 2, ()),
        ("policy, seed >= 2**31, heavy sticky, short time limit", 2**31 + 7, 2, 1, 0.5, 15, 200, True, 3, ()),
    ],
    "freeway": [
        ("random, default sticky", 0, 1, 0, 0.1, 10_000, 200, False, 1, (120,)),
        ("policy to the time limit, env 2 of 3", 77, 3, 2, 0.1, 10_000, 2600, True, 2, ()),
        ("policy, negative seed, no sticky, short time limit", -5, 1, 0, 0.0, 50, 160, True, 3, ()),
    ],
    "asterix": [
        ("random, default sticky", 0, 1, 0, 0.1, 10_000, 400, False, 1, (200,)),
        ("policy, env 6 of 7, until every lane is taken", 777, 7, 6, 0.1, 10_000, 2100, True, 2, ()),
        ("policy, seed >= 2**31, no sticky, short time limit", 2**32 - 1, 2, 0, 0.0, 60, 200, True, 3, ()),
    ],
    "seaquest": [
        ("random, default sticky", 0, 1, 0, 0.1, 10_000, 300, False, 1, (150,)),
        ("policy, env 6 of 8", 31337, 8, 6, 0.1, 10_000, 1500, True, 2, ()),
        ("policy, no sticky, short time limit", 9, 1, 0, 0.0, 80, 250, True, 3, ()),
    ],
    "space_invaders": [
        ("random, default sticky", 0, 1, 0, 0.1, 10_000, 300, False, 1, (150,)),
        ("policy, env 2 of 3, no sticky", 2024, 3, 2, 0.0, 10_000, 1500, True, 3, ()),
        ("policy, heavy sticky, short time limit", 2**31 + 7, 1, 0, 0.5, 70, 200, True, 3, ()),
    ],
}


def record_game(game: str) -> dict:
    cls = BUILTIN_GAMES[game]
    traces = []
    for name, seed, num_envs, index, sticky, max_steps, steps, use_policy, action_seed, reset_at in TRACE_PLANS[game]:
        policy = POLICIES[game] if use_policy else None
        traces.append(record_trace(game, name, seed, num_envs, index, sticky, max_steps, steps, policy, action_seed, reset_at))
    return {
        "format": FORMAT, "game": game, "channels": list(cls.channels), "height": 10, "width": 10,
        "num_actions": len(cls.action_codes), "obs_encoding": "hex of numpy.packbits(obs CHW, big-endian bits)",
        "traces": traces,
    }


def encode(record: dict) -> bytes:
    """The fixture's JSON bytes (deterministic: fixed key order, no floats beyond rewards)."""
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


def fixture_path(game: str) -> str:
    return os.path.join(FIXTURE_DIR, game + ".json.gz")


def main() -> None:
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    for game in TRACE_PLANS:
        data = encode(record_game(game))
        with open(fixture_path(game), "wb") as f:
            f.write(gzip.compress(data, compresslevel=9, mtime=0))
        print("%s: %d bytes of JSON, %d gzipped" % (game, len(data), os.path.getsize(fixture_path(game))))
        for trace in json.loads(data)["traces"]:
            print("  %s: %s" % (trace["name"], trace["events"]))


if __name__ == "__main__":
    main()
