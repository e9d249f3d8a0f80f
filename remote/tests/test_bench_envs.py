"""bench/bench_envs.py and its gymnax peer, run small on CPU: the eager measurement end to end,
the table with a peer's rows beside ours, and the peer's refusals (JAX does not run here; the
peer's measurement itself runs on the GPU machine)."""
import json
import os
import subprocess
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(TESTS))
BENCH = os.path.join(REPO, "bench")
sys.path.insert(0, BENCH)

import bench_envs  # noqa: E402


def _run(script, *args, cwd=REPO):
    return subprocess.run([sys.executable, os.path.join(BENCH, script), *args], cwd=cwd, capture_output=True, text=True, timeout=240)


def test_cpu_run_measures_every_game_and_size_asked_for(tmp_path):
    out = tmp_path / "envs.json"
    done = _run("bench_envs.py", "--device", "cpu", "--games", "freeway,breakout", "--sizes", "4,8",
                "--repeats", "1", "--window-s", "0.05", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(out.read_text())["rows"]
    assert sorted((r["game"], r["num_envs"]) for r in rows) == [("breakout", 4), ("breakout", 8), ("freeway", 4), ("freeway", 8)]
    assert all(r["steps_per_s"] > 0 for r in rows)
    assert "| freeway |" in done.stdout and "vs gymnax" not in done.stdout


def test_table_puts_the_peers_raw_rate_and_the_ratio_beside_ours():
    api = "1.0 (obs, state, reward, terminated, truncated, info)"
    peer = {"peer": "gymnax", "machine": "GPU X, jax 0.0", "command": "python3 bench/bench_peer_gymnax.py --gymnax g",
            "rows": [{"game": "freeway", "num_envs": 1024, "steps_per_s": 20e6, "api": api},
                     {"game": "seaquest", "num_envs": 1024, "error": "NotImplementedError('Seaquest is not yet supported.')"}]}
    rates = bench_envs.peer_rates(peer)
    assert rates == {("freeway", 1024): 20e6}
    ratio = 50e6 / rates[("freeway", 1024)]
    ours = [{"game": "freeway", "num_envs": 1024, "steps_per_s": 50e6, "vs_gymnax": ratio, "cuda_matches_cpu": True},
            {"game": "seaquest", "num_envs": 1024, "steps_per_s": 10e6, "vs_gymnax": None, "cuda_matches_cpu": True}]
    table = bench_envs.to_markdown({"device": "cuda", "machine": "GPU X", "date": "today", "command": "c", "peer": peer, "rows": ours})
    assert "| freeway | 50.0M (2.50×) | yes |" in table
    assert "| seaquest | 10.0M | yes |" in table  # no peer rate, no ratio
    assert "| freeway | 20.0M |" in table and "| seaquest | error |" in table
    assert "gymnax step API 1.0" in table
    assert "Lowest ratio 2.50× (freeway @ 1024 envs): every rated row ≥ 1.0×." in table
    assert "Without a ratio (error on either side): seaquest @ 1024." in table


def test_peer_options_are_refused_where_they_cannot_compare():
    done = _run("bench_envs.py", "--device", "cpu", "--gymnax", "anything")
    assert done.returncode != 0 and "use --device cuda" in done.stderr
    done = _run("bench_envs.py", "--device", "cuda", "--gymnax", "a", "--peer-json", "b")
    assert done.returncode != 0 and "not both" in done.stderr


def test_peer_says_where_gymnax_was_expected(tmp_path):
    done = _run("bench_peer_gymnax.py", "--gymnax", str(tmp_path))
    assert done.returncode != 0
    assert "no gymnax package there (expected %s)" % (tmp_path / "gymnax" / "__init__.py") in done.stderr
