"""Plan validation through the real CLI, plan helpers, and the plans shipped in resources/."""
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO, fake_game

from gantry_remote.paths import UserError
from gantry_remote.plan import load_plan_file, queue_order, trainer_argv, trainer_command, validate_plan

GOOD = {"name": "p", "games": [{"game": "breakout", "backend": "builtin", "target_episodes": 10}]}


def with_games(*games):
    return dict(GOOD, games=list(games))


BAD_PLANS = [
    ("not json", "{name: 'x',", "not valid JSON"),
    ("not an object", [1, 2], "JSON object"),
    ("missing name", {"games": GOOD["games"]}, "\"name\""),
    ("missing games", {"name": "p"}, "\"games\""),
    ("missing target", with_games({"game": "Pong", "backend": "envpool"}), "target_episodes"),
    ("negative target", with_games({"game": "Pong", "backend": "envpool", "target_episodes": -5}), "positive"),
    ("unknown backend", with_games({"game": "Pong", "backend": "gym", "target_episodes": 5}), "backend 'gym' is unknown"),
    ("unknown builtin", with_games({"game": "pong", "backend": "builtin", "target_episodes": 5}), "builtin backend has only"),
    ("duplicate game", with_games(GOOD["games"][0], dict(GOOD["games"][0])), "appears twice"),
    ("bad slots", dict(GOOD, slots=0), "slots"),
    ("bad backoff", dict(GOOD, restart={"max_restarts": 2, "backoff_s": []}), "backoff_s"),
    ("bad trainer args", with_games(dict(GOOD["games"][0], trainer_args={"num envs": 3})), "trainer_args key"),
    ("path in game name", with_games({"game": "../x", "backend": "envpool", "target_episodes": 5}), "games[0].game"),
    ("newline after game name", with_games({"game": "Pong\n", "backend": "envpool", "target_episodes": 5}), "games[0].game"),
    ("game name is a flag", with_games({"game": "--help", "backend": "envpool", "target_episodes": 5}), "games[0].game"),
    ("trainer_args sets run_dir", with_games(dict(GOOD["games"][0], trainer_args={"run_dir": "/tmp/x"})), "set by the supervisor"),
    ("trainer_args sets resume", with_games(dict(GOOD["games"][0], trainer_args={"resume": True})), "set by the supervisor"),
    ("trainer_args unsets resume", with_games(dict(GOOD["games"][0], trainer_args={"no_resume": True})), "set by the supervisor"),
    ("trainer_args sets game", with_games(dict(GOOD["games"][0], trainer_args={"game": "Pong"})), "set by the supervisor"),
    ("infinite heartbeat", dict(GOOD, heartbeat_timeout_s=float("inf")), "heartbeat_timeout_s"),
    ("infinite estimate", with_games(dict(GOOD["games"][0], est_hours=float("inf"))), "est_hours"),
    ("infinite backoff", dict(GOOD, restart={"max_restarts": 2, "backoff_s": [float("inf")]}), "backoff_s"),
    ("infinite trainer arg", with_games(dict(GOOD["games"][0], trainer_args={"learning_rate": float("-inf")})), "finite"),
    ("too many games", with_games(*[{"game": "g%d" % i, "backend": "envpool", "target_episodes": 5} for i in range(257)]), "at most 256"),
    ("unknown builtin env", with_games({"game": "pong-2", "env": "pong", "backend": "builtin", "target_episodes": 5}),
     "builtin backend has only"),
    ("env is a path", with_games({"game": "b2", "env": "../breakout", "backend": "builtin", "target_episodes": 5}), "env must be"),
    ("gpus not a list", dict(GOOD, gpus="0,1"), "\"gpus\" must be"),
    ("gpu listed twice", dict(GOOD, gpus=[0, 0]), "\"gpus\" must be"),
    ("negative gpu", dict(GOOD, gpus=[-1]), "\"gpus\" must be"),
    ("unknown mps mode", dict(GOOD, mps="on"), "\"mps\" must be"),
    ("plan picks the trainer program", dict(GOOD, trainer_command=["/bin/sh", "-c", "id"]), "trainer_command"),
]


@pytest.mark.parametrize("label,plan,expected", BAD_PLANS, ids=[b[0] for b in BAD_PLANS])
def test_bad_plans_exit_2_and_start_nothing(rig, label, plan, expected):
    path = os.path.join(rig.root, "bad.json")
    with open(path, "w") as f:
        f.write(plan if isinstance(plan, str) else json.dumps(plan))
    rc, out = rig.cli("start", "--plan", path)
    assert rc == 2
    assert out["error"]["code"] == "bad_plan"
    assert expected in out["error"]["message"] and "Fix the plan" in out["error"]["message"]
    assert not os.path.exists(os.path.join(rig.root, "runs"))


def test_missing_plan_file_and_bad_run_id(rig):
    rc, out = rig.cli("start", "--plan", os.path.join(rig.root, "nope.json"))
    assert rc == 2 and out["error"]["code"] == "plan_not_found"
    plan = rig.plan([fake_game("breakout", 5)])
    for bad in ("../escape", "a/b", "..", ".hidden", "x" * 200, "run\n", "-run"):
        rc, out = rig.cli("start", "--plan", plan, "--run-id=" + bad)
        assert rc == 2 and out["error"]["code"] == "bad_run_id", bad
    assert not os.path.exists(os.path.join(rig.root, "runs"))
    rc, out = rig.cli("status")
    assert rc == 2 and out["error"]["code"] == "no_runs" and "start --plan" in out["error"]["message"]


def test_start_returns_fast_with_a_detached_pid_and_ids_are_well_formed(rig):
    import re
    import time
    plan = rig.plan([fake_game("breakout", 10)])
    t0 = time.monotonic()
    out = rig.ok("start", "--plan", plan)
    assert time.monotonic() - t0 < 2.0
    assert re.match(r"^\d{8}-\d{6}-[0-9a-f]{4}$", out["run_id"])
    assert isinstance(out["pid"], int) and out["resumed"] is False
    assert os.getsid(out["pid"]) == out["pid"]  # its own session: no SIGHUP from our terminal/SSH
    rc, err = rig.cli("start", "--plan", plan, "--run-id", out["run_id"])
    assert rc == 2 and err["error"]["code"] in ("run_running", "run_completed")
    runs = rig.ok("runs", "--json")["runs"]
    assert [r["run_id"] for r in runs] == [out["run_id"]]


def test_queue_order_and_trainer_flags():
    plan = validate_plan({"name": "p", "games": [
        {"game": "Pong", "backend": "envpool", "target_episodes": 3000, "est_hours": 0.4},
        {"game": "MsPacman", "backend": "envpool", "target_episodes": 30000, "est_hours": 4.5,
         "trainer_args": {"num_envs": 64, "device": "cpu", "anneal_lr": True, "track": False, "seed": None}},
        {"game": "breakout", "backend": "builtin", "target_episodes": 50},
        {"game": "freeway", "backend": "builtin", "target_episodes": 500},
    ]})
    assert queue_order(plan) == ["MsPacman", "Pong", "freeway", "breakout"]
    argv = trainer_argv(trainer_command("/nonexistent-root"), plan["games"][1], "/r/games/MsPacman", resume=True)
    assert argv[1:4] == ["-m", "gantry_remote", "train"]
    assert argv[4:] == ["--game", "MsPacman", "--backend", "envpool", "--run-dir", "/r/games/MsPacman",
                        "--target-episodes", "30000", "--resume", "--num-envs=64", "--device=cpu", "--anneal-lr"]
    assert plan["restart"] == {"max_restarts": 5, "backoff_s": [10, 30, 90, 300]}
    assert plan["heartbeat_timeout_s"] == 300 and plan["gpu_sample_s"] == 10 and plan["slots"] == 6
    assert plan["gpus"] == "all" and plan["mps"] == "auto"
    assert validate_plan(dict(GOOD, gpus=[1, 0], mps="off"))["gpus"] == [1, 0]


def test_one_environment_twice_under_two_names():
    plan = validate_plan(with_games(GOOD["games"][0], {"game": "breakout-seed2", "env": "breakout", "backend": "builtin",
                                                       "target_episodes": 10, "trainer_args": {"seed": 2}}))
    assert "env" not in plan["games"][0] and plan["games"][1]["env"] == "breakout"
    argv = trainer_argv(["train"], plan["games"][1], "/r/games/breakout-seed2", resume=False)
    assert argv[:7] == ["train", "--game", "breakout", "--backend", "builtin", "--run-dir", "/r/games/breakout-seed2"]
    assert argv[-1] == "--seed=2"


def test_shipped_plans_are_valid():
    seed = load_plan_file(os.path.join(REPO, "resources", "plans", "seed-10-games.json"))
    assert seed["slots"] == 6 and len(seed["games"]) == 10
    assert queue_order(seed)[:6] == ["MsPacman", "Asteroids", "Seaquest", "BeamRider", "SpaceInvaders", "Enduro"]
    # Games and targets only: the Atari backend is chosen at launch (launch_backends).
    assert all(g["backend"] is None and g["trainer_args"] == {"num_envs": 256, "minibatch_size": 256}
               for g in seed["games"])
    assert sum(g["target_episodes"] for g in seed["games"]) == 156000
    demo = load_plan_file(os.path.join(REPO, "resources", "plans", "quick-demo.json"))
    assert demo["slots"] == 2
    assert sorted(g["game"] for g in demo["games"]) == ["asterix", "breakout", "seaquest", "space_invaders"]
    assert all(g["backend"] == "builtin" and g["trainer_args"]["device"] == "auto" for g in demo["games"])


def test_a_trainer_arg_value_cannot_become_a_flag():
    from gantry_remote.ppo import parse_args
    plan = validate_plan(with_games(dict(GOOD["games"][0], trainer_args={"device": "--resume"})))
    argv = trainer_argv(trainer_command("/nonexistent-root"), plan["games"][0], "/r/games/breakout", resume=False)
    assert argv[-1] == "--device=--resume"
    args = parse_args(argv[4:])
    assert args.device == "--resume" and args.resume is False


def test_the_trainer_program_comes_from_the_host_environment_only(monkeypatch):
    monkeypatch.delenv("GANTRY_TRAINER_COMMAND", raising=False)
    assert trainer_command("/nonexistent-root")[1:] == ["-m", "gantry_remote", "train"]
    monkeypatch.setenv("GANTRY_TRAINER_COMMAND", '["/usr/bin/python3", "/x/fake_trainer.py"]')
    assert trainer_command("/nonexistent-root") == ["/usr/bin/python3", "/x/fake_trainer.py"]
    for bad in ("python3 x.py", "[]", '[""]', '[1]'):
        monkeypatch.setenv("GANTRY_TRAINER_COMMAND", bad)
        with pytest.raises(UserError) as e:
            trainer_command("/nonexistent-root")
        assert "GANTRY_TRAINER_COMMAND" in e.value.message


def test_resume_validates_the_stored_plan_again(rig):
    run_id = rig.start(rig.plan([fake_game("breakout", 10)]), "--run-id", "tampered")
    rig.wait_finished(run_id)
    state_path = os.path.join(rig.run_path(run_id), "state.json")
    st = rig.state(run_id)
    st["state"] = "stopped"  # resumable again
    with open(state_path, "w") as f:
        json.dump(st, f)
    plan_path = os.path.join(rig.run_path(run_id), "plan.json")
    with open(plan_path) as f:
        stored = json.load(f)
    stored["games"][0]["trainer_args"] = {"run_dir": "/tmp/elsewhere"}
    with open(plan_path, "w") as f:
        json.dump(stored, f)
    rc, out = rig.cli("start", "--run-id", run_id)
    assert rc == 2 and out["error"]["code"] == "bad_plan", out
    assert "plan.json" in out["error"]["message"] and "set by the supervisor" in out["error"]["message"]
    # The supervisor itself refuses it too (it is what a crash-restart would run).
    proc = subprocess.run(
        [sys.executable, "-m", "gantry_remote", "supervise", "--root", rig.root, "--run-id", run_id],
        capture_output=True, env=rig.env, timeout=30)
    assert proc.returncode == 2 and b"bad_plan" in proc.stdout + proc.stderr


SEED = os.path.join(REPO, "resources", "plans", "seed-10-games.json")


def test_start_chooses_the_atari_backend_the_host_has_and_records_it_with_sticky_actions(rig):
    # The test venv (the trainer's Python here) has ale-py and no EnvPool.
    plan = json.load(open(SEED))
    plan["games"] = plan["games"][:2] + [{"game": "breakout", "backend": "builtin", "target_episodes": 5}]
    for g in plan["games"]:
        g["target_episodes"] = 5
    path = rig.plan(plan["games"], slots=1)
    out = rig.ok("start", "--plan", path)
    stored = json.load(open(os.path.join(rig.run_path(out["run_id"]), "plan.json")))
    assert [(g["game"], g["backend"]) for g in stored["games"]] == [("MsPacman", "ale"), ("Asteroids", "ale"), ("breakout", "builtin")]
    assert [g["trainer_args"].get("sticky_actions") for g in stored["games"]] == [0.25, 0.25, None]
    rig.ok("stop", "--run", out["run_id"], "--wait", timeout=60)


def test_start_refuses_a_backend_the_host_lacks_before_anything_starts(rig):
    path = rig.plan([{"game": "Pong", "target_episodes": 5}])
    rc, out = rig.cli("start", "--plan", path, "--atari-backend", "envpool")
    assert rc == 2 and out["error"]["code"] == "backend_unavailable"
    assert "envpool backend was asked for" in out["error"]["message"] and "it can run: ale, builtin" in out["error"]["message"]
    named = rig.plan([{"game": "Pong", "backend": "envpool", "target_episodes": 5}])
    rc, out = rig.cli("start", "--plan", named)
    assert rc == 2 and out["error"]["code"] == "backend_unavailable" and "named by game Pong" in out["error"]["message"]
    assert not os.path.exists(os.path.join(rig.root, "runs"))
