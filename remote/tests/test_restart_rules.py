"""Restart rules per cause, each cause provoked for real with the fake trainer: out of memory
(fewer envs), NaN losses (lower learning rate, from the checkpoint before the NaN), a CUDA error
(pause, with every trainer sharing that GPU through MPS), frozen (restart), and a plan's own rule."""
import json
import os

import pytest
from conftest import assert_journal_sound, fake_game, wait_until
from test_supervisor_gpu_placement import FAKE_MPS, fake_smi

from gantry_remote import failure, restart_rules
from gantry_remote.paths import UserError
from gantry_remote.plan import validate_plan


def strict_events(rig, run_id):
    """The journal as the desktop's JSON.parse reads it: NaN or Infinity is not JSON."""
    def refuse(constant):
        raise ValueError("%s in the journal" % constant)

    with open(os.path.join(rig.run_path(run_id), "events.jsonl"), "rb") as f:
        return [json.loads(line, parse_constant=refuse) for line in f.read().split(b"\n")[:-1]]


def train_log(rig, run_id, game):
    with open(os.path.join(rig.run_path(run_id), "games", game, "train.log")) as f:
        return f.read()


def test_oom_restarts_with_half_the_envs_until_it_fits(rig):
    # The GPU holds 64 envs: 256 -> OOM -> 128 -> OOM -> 64 trains to the target.
    run_id = rig.start(rig.plan([fake_game("breakout", 20, fake_oom_above_envs=64)]))
    status = rig.wait_finished(run_id)
    assert status["state"] == "completed"
    restarts = rig.of_type(run_id, "game_restarting", game="breakout")
    assert [(e["cause"], e["exit_code"], e["rule"]) for e in restarts] == [("oom", 3, "fewer_envs")] * 2
    assert [e["changes"] for e in restarts] == [[{"arg": "num_envs", "from": 256, "to": 128}],
                                                [{"arg": "num_envs", "from": 128, "to": 64}]]
    assert "CUDA out of memory" in restarts[0]["detail"]
    assert status["games"][0]["overrides"] == {"num_envs": 64}
    log = train_log(rig, run_id, "breakout")
    assert "--num-envs=128" in log and "num_envs=64" in log
    assert_journal_sound(rig.events(run_id))


def test_oom_at_the_floor_restarts_unchanged_and_says_so(rig):
    rules = {"oom": {"action": "fewer_envs", "factor": 0.5, "min_envs": 32}}
    game = fake_game("freeway", 20, num_envs=32, fake_oom_above_envs=16)
    run_id = rig.start(rig.plan([game], restart={"max_restarts": 1, "backoff_s": [0.1]}, restart_rules=rules))
    status = rig.wait_finished(run_id)
    assert status["state"] == "failed"
    [restart] = rig.of_type(run_id, "game_restarting")
    assert restart["changes"] == [] and "already at the floor (32)" in restart["note"]
    assert rig.of_type(run_id, "game_failed")[0]["cause"] == "oom"


def test_nan_in_metrics_restarts_from_the_checkpoint_before_it_with_a_lower_lr(rig):
    # Diverges at 30 episodes while lr > 1.5e-4; keeps running and writing NaN losses (no guard).
    game = fake_game("seaquest", 60, learning_rate=2.5e-4, fake_nan_at=30, fake_nan_above_lr=1.5e-4,
                     fake_episodes_per_sec=20, fake_ckpt_every=10)
    run_id = rig.start(rig.plan([game], restart={"max_restarts": 3, "backoff_s": [1.0]}))
    wait_until(lambda: rig.of_type(run_id, "game_restarting"), what="the NaN restart")
    # While it waits to restart, status still shows the last metrics: as JSON, not NaN (seen failing before).
    code, out = rig.cli("status", "--run", run_id, "--json")
    assert code == 0 and "NaN" not in json.dumps(out)
    status = rig.wait_finished(run_id)
    assert status["state"] == "completed"
    events = strict_events(rig, run_id)
    [restart] = [e for e in events if e["type"] == "game_restarting"]
    assert restart["cause"] == "nan" and restart["rule"] == "lower_lr"
    assert restart["changes"] == [{"arg": "learning_rate", "from": 2.5e-4, "to": 1.25e-4}]
    assert "losses" in restart["detail"] or "mean_return" in restart["detail"]
    log = train_log(rig, run_id, "seaquest")
    resumed = [line for line in log.splitlines() if "resumed from ckpt-" in line]
    assert len(resumed) == 1 and int(resumed[0].split(" at ")[1].split()[0]) <= 30  # before the NaN
    assert "--learning-rate=0.000125" in log
    checkpoints = [e["global_step"] for e in events if e["type"] == "checkpoint"]
    assert checkpoints == sorted(checkpoints)
    assert_journal_sound(events)


def test_cuda_error_pauses_every_game_on_that_gpu_under_mps(rig, tmp_path):
    rig.env.update(GANTRY_NVIDIA_SMI=fake_smi(tmp_path, 2), GANTRY_MPS_CONTROL=FAKE_MPS,
                   FAKE_MPS_LOG=str(tmp_path / "mps.log"), TMPDIR=str(tmp_path))
    cuda = "RuntimeError: CUDA error: an illegal memory access was encountered"
    games = [fake_game("breakout", 400, fake_episodes_per_sec=10, fake_crash_at=5, fake_crash_message=cuda),
             fake_game("freeway", 400, fake_episodes_per_sec=10, fake_ckpt_every=5),
             fake_game("asterix", 400, fake_episodes_per_sec=10, fake_ckpt_every=5)]
    run_id = rig.start(rig.plan(games, slots=2))
    wait_until(lambda: len(rig.of_type(run_id, "game_paused")) >= 2, timeout=20, what="the GPU's games paused")
    gpu_of = {e["game"]: e["gpu"] for e in rig.of_type(run_id, "game_started")}
    partner = next(g for g in ("freeway", "asterix") if gpu_of[g] == gpu_of["breakout"])
    other = "asterix" if partner == "freeway" else "freeway"
    paused = {e["game"]: e for e in rig.of_type(run_id, "game_paused")}
    assert paused["breakout"]["cause"] == "cuda" and paused["breakout"]["rule"] == "pause"
    assert "illegal memory access" in paused["breakout"]["detail"]
    assert paused[partner]["cause"] == "cuda" and "paused with breakout" in paused[partner]["detail"]
    assert other not in paused
    assert rig.of_type(run_id, "game_restarting") == []  # restarting would not help
    states = {g["game"]: g["state"] for g in rig.status(run_id)["games"]}
    assert states["breakout"] == "paused" and states[partner] == "paused" and states[other] == "running"
    assert "checkpointed" in train_log(rig, run_id, partner)  # paused with SIGTERM: its work is kept
    rig.ok("stop", "--run", run_id)
    assert_journal_sound(rig.events(run_id))


def test_frozen_restarts_and_a_plan_rule_can_fail_a_crash_at_once(rig):
    games = [fake_game("breakout", 30, fake_hang_at=10),
             fake_game("asterix", 30, fake_crash_at=5, fake_crash_message="RuntimeError: boom")]
    run_id = rig.start(rig.plan(games, slots=2, heartbeat_timeout_s=1.0, restart_rules={"crash": {"action": "fail"}}))
    status = rig.wait_finished(run_id)
    assert {g["game"]: g["state"] for g in status["games"]} == {"breakout": "completed", "asterix": "failed"}
    [frozen] = rig.of_type(run_id, "game_restarting")
    assert (frozen["game"], frozen["cause"], frozen["rule"], frozen["changes"]) == ("breakout", "frozen", "restart", [])
    assert rig.of_type(run_id, "game_failed")[0]["cause"] == "crash"
    plan = json.load(open(os.path.join(rig.run_path(run_id), "plan.json")))
    assert plan["restart_rules"]["crash"] == {"action": "fail"}  # visible: every cause's rule is in plan.json
    assert plan["restart_rules"]["oom"] == restart_rules.DEFAULT_RULES["oom"]


def test_cuda_errors_are_classified_apart_from_oom():
    assert failure.classify(1, "x\nRuntimeError: CUDA error: device-side assert triggered\n")[0] == "cuda"
    assert failure.classify(1, "RuntimeError: CUDA error: out of memory\n")[0] == "oom"
    assert failure.classify(1, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\n")[0] == "cuda"
    assert failure.classify(1, "pixidxid is not Xidlike\nValueError: boom\n")[0] == "crash"


BASE = {"name": "p", "games": [{"game": "breakout", "backend": "builtin", "target_episodes": 5}]}


@pytest.mark.parametrize("rules, words", [
    ({"oops": {"action": "restart"}}, "'oops' is not a cause"),
    ({"oom": "restart"}, "needs an \"action\""),
    ({"oom": {"action": "reboot"}}, "needs an \"action\""),
    ({"oom": {"action": "fewer_envs", "factor": 1.5}}, "between 0 and 1"),
    ({"oom": {"action": "fewer_envs", "min_envs": 0}}, "min_envs must be a whole number"),
    ({"nan": {"action": "lower_lr", "min_lr": float("nan")}}, "must be a number"),
    ({"crash": {"action": "restart", "factor": 0.5}}, "restart takes no settings"),
    ([], "must be an object"),
])
def test_bad_rules_are_refused_with_the_reason(rules, words):
    with pytest.raises(UserError) as err:
        validate_plan(dict(BASE, restart_rules=rules))
    assert words in err.value.message and "Fix the plan file" in err.value.message


def test_defaults_agree_with_the_trainer():
    from gantry_remote.ppo import parse_args
    for backend, lr in restart_rules.DEFAULT_LEARNING_RATE.items():
        args = parse_args(["--game", "breakout", "--backend", backend, "--run-dir", "/tmp/x"])
        assert (args.num_envs, args.learning_rate) == (restart_rules.DEFAULT_NUM_ENVS, lr)
