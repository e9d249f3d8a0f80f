"""The env-throughput peer: gymnax's MinAtar games under JAX, timed with bench_envs.py's protocol.

Next session's device call (run tool, carry [".gl", ".whl"]), after putting gymnax 1.0 beside
v0.0.9 here (1.0 because v0.0.9 has no working Seaquest: gymnax.make refuses it):
`mkdir -p .gl/gymnax-1.0 && git -C /work/.mirror/RobertTLange+gymnax/repo archive v1.0.0 gymnax | tar -x -C .gl/gymnax-1.0`

    pip install -q --no-deps --target /tmp/pk .whl/gymnasium-*.whl .whl/farama_notifications-*.whl && \
    cd remote && PYTHONPATH=/tmp/pk python3 ../bench/bench_envs.py --device cuda --static \
        --gymnax ../.gl/gymnax-1.0 --out $OUT/envs.json

bench_envs.py runs this script first, in its own process, then times ours and prints one table
with both. Should 15 static compiles of ours plus 15 JAX compiles not fit one call's 10 minutes,
split by game (--games breakout,freeway then the rest), or run this script alone
(`python3 bench/bench_peer_gymnax.py --gymnax .gl/gymnax-1.0 --out $OUT/gymnax.json`) and give
its file to bench_envs.py --peer-json in the next call.

Protocol, the same as bench_envs.py's CUDA rows: per launch one jitted `lax.scan` of K steps of
`vmap(env.step)` with uniform random actions drawn on the device inside the scan (one key per env
per step, as PureJaxRL steps gymnax), best of 3 timed windows after warm-up (bench_envs.best_rate,
the one implementation of the timing). Every step's observation is materialised: it is carried
through the scan and returned, so XLA cannot drop get_obs (a scan that discards the observation
measures a game without its observation). Rewards and dones are summed in the carry likewise.

Both gymnax step signatures are supported: v0.0.9 returns (obs, state, reward, done, info), 1.0
(obs, state, reward, terminated, truncated, info); the row records which one ran. A game that
fails (for example Seaquest in v0.0.9, which gymnax.make refuses) becomes a row with "error" and
the exit status is 1, so a partial peer is never mistaken for a full one.
"""
import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_envs import GAMES, best_rate, save  # noqa: E402

GYMNAX_NAMES = {"breakout": "Breakout-MinAtar", "space_invaders": "SpaceInvaders-MinAtar", "freeway": "Freeway-MinAtar",
                "asterix": "Asterix-MinAtar", "seaquest": "Seaquest-MinAtar"}
CHANNELS = {"breakout": 4, "space_invaders": 6, "freeway": 7, "asterix": 4, "seaquest": 10}


def import_gymnax(root: str):
    package = Path(root).resolve() / "gymnax" / "__init__.py"
    if not package.is_file():
        raise SystemExit("--gymnax %s: no gymnax package there (expected %s); `git archive` RobertTLange/gymnax into it" % (root, package))
    sys.path.insert(0, str(package.parent.parent))
    try:
        import gymnax
    except ImportError as error:
        raise SystemExit("importing gymnax from %s failed: %r (gymnax needs jax, flax and gymnasium; the device "
                         "has no gymnasium: pip install --no-deps --target /tmp/pk the carried wheel, "
                         "PYTHONPATH=/tmp/pk)" % (root, error)) from error

    if Path(gymnax.__file__).resolve() != package.resolve():
        raise SystemExit("imported gymnax from %s, not from --gymnax %s" % (gymnax.__file__, root))
    return gymnax


def make_launch(env, params, num_envs: int, steps: int):
    """carry -> carry after `steps` random-action steps of every env, one jitted scan."""
    import jax

    vstep = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def one_step(carry, _):
        state, obs, key, reward_sum, done_count = carry
        key, key_act, key_step = jax.random.split(key, 3)
        actions = jax.random.randint(key_act, (num_envs,), 0, env.num_actions)
        out = vstep(jax.random.split(key_step, num_envs), state, actions, params)
        done = out[3] if len(out) == 5 else out[3] | out[4]  # v0.0.9: done; 1.0: terminated, truncated
        return (out[1], out[0], key, reward_sum + out[2], done_count + done), None

    def launch(carry):
        return jax.lax.scan(one_step, carry, None, length=steps)[0]

    return jax.jit(launch)


def step_api(env, params) -> str:
    import jax

    key = jax.random.PRNGKey(0)
    _, state = env.reset(key, params)
    out = env.step(key, state, 0, params)
    if len(out) not in (5, 6):
        raise RuntimeError("gymnax step returned %d values; this script knows 5 (v0.0.9) and 6 (1.0)" % len(out))
    return "v0.0.9 (obs, state, reward, done, info)" if len(out) == 5 else "1.0 (obs, state, reward, terminated, truncated, info)"


def measure(gymnax, game: str, num_envs: int, steps: int, repeats: int, window_s: float) -> dict:
    import jax
    import jax.numpy as jnp

    env, params = gymnax.make(GYMNAX_NAMES[game])
    row = {"game": game, "num_envs": num_envs, "steps_per_launch": steps, "api": step_api(env, params)}
    key = jax.random.PRNGKey(0)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, num_envs), params)
    expected = (num_envs, 10, 10, CHANNELS[game])
    if obs.shape != expected or obs.dtype != jnp.float32:
        raise RuntimeError("%s observation is %s %s, expected %s float32" % (game, obs.shape, obs.dtype, expected))
    holder = [(state, obs, key, jnp.zeros(num_envs, jnp.float32), jnp.zeros(num_envs, jnp.int32))]
    launch = make_launch(env, params, num_envs, steps)
    started = time.perf_counter()
    holder[0] = jax.block_until_ready(launch(holder[0]))
    row["compile_s"] = time.perf_counter() - started

    def run_once():
        holder[0] = launch(holder[0])

    run_once()
    jax.block_until_ready(holder[0])
    row["steps_per_s"] = best_rate(run_once, num_envs * steps, repeats, window_s, lambda: jax.block_until_ready(holder[0]))
    _, obs, _, reward_sum, done_count = holder[0]
    if not bool(jnp.all((obs == 0) | (obs == 1))):
        raise RuntimeError("%s observation holds values other than 0 and 1 after the run" % game)
    row["reward_sum"] = float(reward_sum.sum())
    row["episodes_ended"] = int(done_count.sum())
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gymnax", required=True, help="folder holding the gymnax package (git archive of RobertTLange/gymnax)")
    parser.add_argument("--games", default=",".join(GAMES))
    parser.add_argument("--sizes", default="1024,16384,131072")
    parser.add_argument("--steps-per-launch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window-s", type=float, default=0.3)
    parser.add_argument("--out", default=None, help="write results JSON here")
    args = parser.parse_args(argv)
    games = [g for g in args.games.split(",") if g]
    unknown = sorted(set(games) - set(GYMNAX_NAMES))
    if unknown:
        raise SystemExit("unknown games %s; valid: %s" % (unknown, ", ".join(GAMES)))
    sizes = [int(s) for s in args.sizes.split(",")]

    gymnax = import_gymnax(args.gymnax)
    import jax

    device = jax.devices()[0]
    results = {
        "peer": "gymnax",
        "machine": "%s, jax %s" % (getattr(device, "device_kind", str(device)), jax.__version__),
        "gymnax": str(Path(gymnax.__file__).resolve().parent),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python3 bench/bench_peer_gymnax.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "rows": [],
    }
    print("gymnax %s on %s" % (results["gymnax"], results["machine"]), flush=True)
    if device.platform != "gpu":
        print("warning: JAX runs on %s, not a GPU; these are not device numbers" % device.platform, flush=True)
    failed = False
    for game in games:
        for size in sizes:
            try:
                row = measure(gymnax, game, size, args.steps_per_launch, args.repeats, args.window_s)
            except Exception as error:  # one game failing must not hide the others, nor pass silently
                failed = True
                row = {"game": game, "num_envs": size, "error": repr(error)[:500]}
            results["rows"].append(row)
            print(json.dumps(row), flush=True)
            save(results, args.out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
