"""Every GPU of a host used: slots per GPU, least-loaded placement, sticky GPUs, and CUDA MPS.

A stand-in nvidia-smi lists the GPUs; the trainers are real (fake-trainer) processes, and the GPU
each one got is read back from its own environment (/proc/<pid>/environ), as CUDA would see it.
"""
import json
import os
import signal
import stat

from conftest import assert_journal_sound, fake_game, wait_until

from gantry_remote.procs import environ_value

TESTS = os.path.dirname(os.path.abspath(__file__))
FAKE_MPS = os.path.join(TESTS, "fake_mps_control.py")


def fake_smi(tmp_path, count):
    smi = tmp_path / ("nvidia-smi-%d" % count)
    rows = "\n".join("echo \"%d, NVIDIA H200, 50, 1000, 143771, 40, 300.0\"" % i for i in range(count))
    smi.write_text("#!/bin/sh\n" + rows + "\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    return str(smi)


def pinned_gpu(rig, game):
    pids = rig.trainer_pids(game)
    assert len(pids) == 1, (game, pids)
    return environ_value(pids[0], "CUDA_VISIBLE_DEVICES"), pids[0]


def running(rig, run_id):
    return [g for g in rig.status(run_id)["games"] if g["state"] == "running"]


def slow(name, target=400):
    return fake_game(name, target, fake_episodes_per_sec=10, fake_ckpt_every=5)


def test_two_gpus_two_slots_each_fill_both_gpus_evenly(rig, tmp_path):
    rig.env["GANTRY_NVIDIA_SMI"] = fake_smi(tmp_path, 2)
    names = ["breakout", "freeway", "asterix", "seaquest", "space_invaders"]
    run_id = rig.start(rig.plan([slow(n) for n in names], slots=2, mps="off"))
    wait_until(lambda: len(running(rig, run_id)) == 4, what="four trainers (2 GPUs x 2 slots)")
    assert rig.of_type(run_id, "run_started")[0]["gpus"] == [0, 1]
    games = running(rig, run_id)
    per_gpu = {0: 0, 1: 0}
    for g in games:
        visible, _ = pinned_gpu(rig, g["game"])
        assert visible == str(g["gpu"])  # what the trainer sees is what status shows
        per_gpu[g["gpu"]] += 1
    assert per_gpu == {0: 2, 1: 2}
    started = {e["game"]: e["gpu"] for e in rig.of_type(run_id, "game_started")}
    assert [started[n] for n in names[:4]] == [0, 1, 0, 1]  # least loaded, then lowest index
    assert len(running(rig, run_id)) == 4 and "space_invaders" not in started
    rig.ok("stop", "--run", run_id)
    assert_journal_sound(rig.events(run_id))


def test_the_plan_picks_gpus_among_eight(rig, tmp_path):
    rig.env["GANTRY_NVIDIA_SMI"] = fake_smi(tmp_path, 8)
    run_id = rig.start(rig.plan([slow(n) for n in ("breakout", "freeway", "asterix")], slots=1, gpus=[3, 6, 9], mps="off"))
    wait_until(lambda: len(running(rig, run_id)) == 2, what="two trainers (GPUs 3 and 6, one slot each)")
    assert rig.of_type(run_id, "run_started")[0]["gpus"] == [3, 6]
    assert "GPU 9" in rig.of_type(run_id, "gpu_unavailable")[0]["reason"]
    assert sorted(pinned_gpu(rig, g["game"])[0] for g in running(rig, run_id)) == ["3", "6"]
    rig.ok("stop", "--run", run_id)


def test_a_restarted_game_and_an_adopted_one_keep_their_gpu(rig, tmp_path):
    rig.env["GANTRY_NVIDIA_SMI"] = fake_smi(tmp_path, 2)
    games = [slow("breakout"), slow("freeway"), fake_game("asterix", 400, fake_episodes_per_sec=10, fake_crash_at=8)]
    run_id = rig.start(rig.plan(games, slots=2, mps="off"))
    first = wait_until(lambda: rig.of_type(run_id, "game_started", game="asterix"), what="asterix")[0]
    again = wait_until(lambda: rig.of_type(run_id, "game_started", game="asterix", attempt=2), timeout=30,
                       what="asterix restarted after its crash")[0]
    assert again["gpu"] == first["gpu"] == 0  # breakout 0, freeway 1, asterix 0; back on 0
    assert pinned_gpu(rig, "asterix")[0] == "0"

    with open(os.path.join(rig.run_path(run_id), "supervisor.lock")) as f:
        os.kill(int(f.read().strip()), signal.SIGKILL)
    wait_until(lambda: not rig.status(run_id)["supervisor_alive"], what="supervisor dead")
    before = {g["game"]: g["gpu"] for g in running(rig, run_id)}
    rig.ok("start", "--run-id", run_id)
    wait_until(lambda: len(rig.of_type(run_id, "supervisor_started")) == 2, what="second supervisor")
    after = {g["game"]: g["gpu"] for g in running(rig, run_id)}
    assert after == before and sorted(after.values()) == [0, 0, 1]
    for game, index in after.items():
        assert pinned_gpu(rig, game)[0] == str(index)
    rig.ok("set-slots", "--run", run_id, "1")
    rig.ok("stop", "--run", run_id)
    assert_journal_sound(rig.events(run_id))


def test_a_trainer_the_supervisor_never_recorded_is_adopted_with_its_gpu(rig, tmp_path):
    rig.env["GANTRY_NVIDIA_SMI"] = fake_smi(tmp_path, 2)
    run_id = rig.start(rig.plan([slow("breakout"), slow("freeway")], slots=1, mps="off"))
    wait_until(lambda: len(running(rig, run_id)) == 2, what="both trainers")
    assert pinned_gpu(rig, "freeway")[0] == "1"
    with open(os.path.join(rig.run_path(run_id), "supervisor.lock")) as f:
        os.kill(int(f.read().strip()), signal.SIGKILL)
    wait_until(lambda: not rig.status(run_id)["supervisor_alive"], what="supervisor dead")
    # As if the supervisor died between starting freeway's trainer and saving its pid and GPU.
    state = rig.state(run_id)
    state["games"]["freeway"].update(state="queued", pid=None, pid_start=None, gpu=None)
    with open(os.path.join(rig.run_path(run_id), "state.json"), "w") as f:
        json.dump(state, f)
    rig.ok("start", "--run-id", run_id)
    adopted = wait_until(lambda: rig.of_type(run_id, "game_started", game="freeway", attempt=2), what="freeway adopted")
    assert adopted[0]["gpu"] == 1  # read back from the trainer's CUDA_VISIBLE_DEVICES
    assert {g["game"]: g["gpu"] for g in running(rig, run_id)} == {"breakout": 0, "freeway": 1}
    assert len(rig.trainer_pids("freeway")) == 1
    rig.ok("stop", "--run", run_id)
    assert_journal_sound(rig.events(run_id))


def test_mps_daemon_for_shared_gpus_and_its_clients(rig, tmp_path):
    rig.env.update(GANTRY_NVIDIA_SMI=fake_smi(tmp_path, 1), GANTRY_MPS_CONTROL=FAKE_MPS,
                   FAKE_MPS_LOG=str(tmp_path / "mps.log"), TMPDIR=str(tmp_path))
    run_id = rig.start(rig.plan([fake_game(n, 30, fake_episodes_per_sec=20) for n in ("breakout", "freeway")], slots=2))
    wait_until(lambda: len(running(rig, run_id)) == 2, what="two trainers sharing GPU 0")
    pipes = {environ_value(pinned_gpu(rig, g)[1], "CUDA_MPS_PIPE_DIRECTORY") for g in ("breakout", "freeway")}
    assert len(pipes) == 1 and pipes.pop().startswith(str(tmp_path))
    rig.wait_finished(run_id)
    calls = (tmp_path / "mps.log").read_text().split()
    assert calls.count("start") == 1 and calls[-1] == "quit"  # quit once the run is over
    assert rig.of_type(run_id, "mps_unavailable") == []
    assert_journal_sound(rig.events(run_id))


def test_refused_mps_falls_back_to_time_slicing_with_one_event(rig, tmp_path):
    rig.env.update(GANTRY_NVIDIA_SMI=fake_smi(tmp_path, 1), GANTRY_MPS_CONTROL=FAKE_MPS, FAKE_MPS_REFUSE="1",
                   FAKE_MPS_LOG=str(tmp_path / "mps.log"), TMPDIR=str(tmp_path))
    run_id = rig.start(rig.plan([fake_game(n, 30, fake_episodes_per_sec=20) for n in ("breakout", "freeway")], slots=2))
    wait_until(lambda: len(running(rig, run_id)) == 2, what="two trainers")
    assert environ_value(pinned_gpu(rig, "breakout")[1], "CUDA_MPS_PIPE_DIRECTORY") is None
    rig.wait_finished(run_id)
    refused = rig.of_type(run_id, "mps_unavailable")
    assert len(refused) == 1 and "refused to start" in refused[0]["reason"]
    assert rig.status(run_id)["state"] == "completed"


def test_mps_off_and_one_slot_never_touch_mps(rig, tmp_path):
    rig.env.update(GANTRY_NVIDIA_SMI=fake_smi(tmp_path, 1), GANTRY_MPS_CONTROL=FAKE_MPS,
                   FAKE_MPS_LOG=str(tmp_path / "mps.log"), TMPDIR=str(tmp_path))
    for fields in ({"slots": 2, "mps": "off"}, {"slots": 1}):
        run_id = rig.start(rig.plan([fake_game("breakout", 10)], **fields))
        rig.wait_finished(run_id)
    assert not (tmp_path / "mps.log").exists()


def test_a_dead_mps_daemon_is_restarted_before_trainers_restart(rig, tmp_path):
    rig.env.update(GANTRY_NVIDIA_SMI=fake_smi(tmp_path, 1), GANTRY_MPS_CONTROL=FAKE_MPS,
                   FAKE_MPS_LOG=str(tmp_path / "mps.log"), TMPDIR=str(tmp_path))
    games = [slow("breakout", 60), fake_game("freeway", 60, fake_episodes_per_sec=10, fake_crash_at=10,
                                             fake_crash_message="Segmentation fault (core dumped)")]
    run_id = rig.start(rig.plan(games, slots=2))
    wait_until(lambda: len(running(rig, run_id)) == 2, what="two trainers")
    pipe = environ_value(pinned_gpu(rig, "breakout")[1], "CUDA_MPS_PIPE_DIRECTORY")
    with open(os.path.join(pipe, "fake-daemon.pid")) as f:
        os.kill(int(f.read()), signal.SIGKILL)  # the MPS server goes down with the crashing client
    # (a CUDA error line would pause the game by its restart rule instead; see test_restart_rules.py)
    wait_until(lambda: rig.of_type(run_id, "game_started", game="freeway", attempt=2), timeout=30, what="freeway back")
    calls = (tmp_path / "mps.log").read_text().split()
    assert calls.count("start") == 2
    rig.ok("stop", "--run", run_id)
