"""GPU gauges for SLURM runs: each job samples its own GPUs into its game folder and `sync`
turns the files into the same `gpu` events a single host journals, one gauge per GPU per node.
On the real single-node cluster with a stand-in nvidia-smi on the jobs' PATH (no GPU here), and
the validation of what the nodes wrote (untrusted) on its own."""
import json
import os
import stat
import time

from conftest import assert_journal_sound, fake_game, pids_with_arg
from slurm_rig import slurm  # noqa: F401  (pytest fixture)
from test_slurm_run import game, slurm_plan, srig, wait_state  # noqa: F401  (srig is a fixture)

from gantry_remote.slurm_gpu import _allocated, gauges, read_sample, sync_gpus

FAKE_SMI = """#!/bin/sh
echo "0, NVIDIA H100 80GB HBM3, 87, 40000, 81559, 64, 512.5"
echo "1, NVIDIA H100 80GB HBM3, [N/A], 1024, 81559, 35, [Not Supported]"
"""


def test_jobs_sample_their_gpus_and_sync_journals_one_gauge_per_gpu_per_node(srig, slurm, tmp_path):  # noqa: F811
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.chmod(tmp_path, 0o755)
    smi = bin_dir / "nvidia-smi"
    smi.write_text(FAKE_SMI)
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC | stat.S_IXOTH | stat.S_IROTH)
    # Jobs inherit the submitting environment (sbatch --export=ALL): the node finds this nvidia-smi.
    srig.env["PATH"] = "%s:%s" % (bin_dir, srig.env["PATH"])
    games = [fake_game(n, target=60, fake_episodes_per_sec=10) for n in ("breakout", "freeway")]
    plan = slurm_plan(srig, games)
    with open(plan) as f:
        data = json.load(f)
    data["gpu_sample_s"] = 1
    with open(plan, "w") as f:
        json.dump(data, f)
    run_id = srig.ok("start", "--plan", plan)["run_id"]

    def gpu_events():
        return [e for e in srig.events(run_id) if e["type"] == "gpu"]
    wait_state(srig, run_id, lambda v: len(gpu_events()) >= 2 or v["state"] != "running", 90, "two gpu events")
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", 90, "the run to finish")
    assert view["state"] == "completed", view
    samples = gpu_events()
    assert len(samples) >= 2, srig.events(run_id)
    gpus = samples[0]["gpus"]
    # Both games' jobs ran on the one node and saw the same two GPUs: one gauge each, both games on it.
    assert [(g["node"], g["index"]) for g in gpus] == [(slurm.node, 0), (slurm.node, 1)], gpus
    assert gpus[0]["util"] == 87 and gpus[0]["mem_used"] == 40000 and gpus[0]["power"] == 512.5
    assert gpus[1]["util"] is None and gpus[1]["power"] is None
    assert all(set(g["games"]) <= {"breakout", "freeway"} and g["games"] for g in gpus)
    events = srig.events(run_id)
    assert_journal_sound(events)
    assert not [e for e in events if e["type"] == "gpu_unavailable"]
    for name in ("breakout", "freeway"):
        written = json.loads(open(os.path.join(srig.run_path(run_id), "games", name, "gpu.json")).read())
        assert written["node"] == slurm.node and len(written["gpus"]) == 2
    # The job scripts stopped their samplers on exit: none is left on the node.
    assert pids_with_arg("slurm-gpu-sample") == []


def test_jobs_without_nvidia_smi_give_one_gpu_unavailable(srig, slurm):  # noqa: F811
    srig.env["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # no nvidia-smi here
    run_id = srig.ok("start", "--plan", slurm_plan(srig, [fake_game("breakout", target=30, fake_episodes_per_sec=10)]))["run_id"]
    view = wait_state(srig, run_id, lambda v: v["state"] != "running", 90, "the run to finish")
    assert view["state"] == "completed", view
    events = srig.events(run_id)
    unavailable = [e for e in events if e["type"] == "gpu_unavailable"]
    assert len(unavailable) == 1 and "nvidia-smi not found" in unavailable[0]["reason"] and slurm.node in unavailable[0]["reason"]
    assert not [e for e in events if e["type"] == "gpu"]


def _write(path, obj):
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(path)


def test_read_sample_accepts_only_the_expected_shape(tmp_path):
    now = time.time()
    first = {"index": 0, "name": "A100\x1b[2J", "util": 50, "mem_used": 1, "mem_total": 2, "temp": 40, "power": 100.5}
    odd = {"index": 1, "name": "B", "util": float("inf"), "mem_used": -5, "mem_total": "2", "temp": None, "power": 1e12}
    good = {"v": 1, "ts": now, "node": "n1", "job": "5",
            "gpus": [first, {"index": 99, "name": "bad index"}, {"index": True, "name": "bool index"}, "junk", odd]}
    s = read_sample(_write(tmp_path / "a.json", json.dumps(good).replace("Infinity", "1e400")))
    assert s is not None and s["node"] == "n1"
    assert s["gpus"][0] == dict(first, name="A100[2J", node="n1")  # control characters dropped
    assert s["gpus"][1] == {"index": 1, "name": "B", "node": "n1", "util": None, "mem_used": None, "mem_total": None, "temp": None,
                            "power": None}
    assert len(s["gpus"]) == 2
    assert read_sample(_write(tmp_path / "b.json", dict(good, node="../../etc"))) is None
    assert read_sample(_write(tmp_path / "c.json", dict(good, ts="now"))) is None
    assert read_sample(_write(tmp_path / "d.json", "not json")) is None
    assert read_sample(_write(tmp_path / "e.json", dict(good, gpus=[]))) is None
    assert read_sample(_write(tmp_path / "f.json", dict(good, gpus=[{"x": 1}] * 10 + good["gpus"]))) is not None  # junk skipped
    big = tmp_path / "g.json"
    big.write_text(json.dumps(dict(good, pad="x" * 70000)))
    assert read_sample(str(big)) is None
    link = tmp_path / "h.json"
    link.symlink_to(tmp_path / "a.json")
    assert read_sample(str(link)) is None  # a node could point a link anywhere
    assert read_sample(str(tmp_path / "missing.json")) is None
    assert read_sample(_write(tmp_path / "i.json", {"ts": now, "node": "n2", "unavailable": "nvidia-smi not found"})) == {
        "ts": now, "node": "n2", "unavailable": "nvidia-smi not found"}


def test_gauges_merge_per_node_and_gpu_newest_first_and_drop_stale_samples():
    now = 1000.0
    gpu = lambda node, i, util: {"index": i, "name": "H100", "node": node, "util": util, "mem_used": 1, "mem_total": 2,  # noqa: E731
                                 "temp": 50, "power": 300}
    samples = {
        "breakout": {"ts": now - 5, "node": "n1", "gpus": [gpu("n1", 0, 10)]},
        "pong": {"ts": now - 2, "node": "n1", "gpus": [gpu("n1", 0, 90)]},  # same GPU (shards), newer
        "freeway": {"ts": now - 1, "node": "n2", "gpus": [gpu("n2", 0, 50), gpu("n2", 1, 60)]},
        "asterix": {"ts": now - 500, "node": "n3", "gpus": [gpu("n3", 0, 70)]},  # job ended long ago
        "seaquest": {"ts": now, "node": "n4", "unavailable": "nvidia-smi not found"},
    }
    out, newest = gauges(samples, now, interval=5)
    assert [(g["node"], g["index"], g["util"], g["games"]) for g in out] == [
        ("n1", 0, 90, ["breakout", "pong"]), ("n2", 0, 50, ["freeway"]), ("n2", 1, 60, ["freeway"])]
    assert newest == now - 1
    assert gauges({"asterix": samples["asterix"]}, now, 5) == ([], 0.0)


def test_sync_gpus_journals_at_most_one_event_per_interval_and_only_newer_samples(tmp_path):
    run = tmp_path / "run"
    (run / "games" / "breakout").mkdir(parents=True)
    sample = {"v": 1, "ts": time.time(), "node": "n1", "job": "7",
              "gpus": [{"index": 0, "name": "H100", "util": 1, "mem_used": 1, "mem_total": 2, "temp": 3, "power": 4}]}
    _write(run / "games" / "breakout" / "gpu.json", sample)
    st = {"order": ["breakout"]}
    emitted = []

    def emit(kind, **fields):
        emitted.append((kind, fields))
    sync_gpus(str(run), st, 60, emit)
    sync_gpus(str(run), st, 60, emit)  # the same sample again: nothing new
    assert [k for k, _ in emitted] == ["gpu"] and emitted[0][1]["gpus"][0]["games"] == ["breakout"]
    _write(run / "games" / "breakout" / "gpu.json", dict(sample, ts=sample["ts"] + 1))
    sync_gpus(str(run), st, 60, emit)  # newer, but within the interval
    assert len(emitted) == 1
    st["gpu_emitted_ts"] = 0
    sync_gpus(str(run), st, 60, emit)
    assert len(emitted) == 2


def test_a_job_samples_the_gpus_slurm_gave_it():
    node = [{"index": i, "name": "H100"} for i in range(4)]
    assert [g["index"] for g in _allocated(node, "1,3")] == [1, 3]
    # cgroups hide the other GPUs and renumber the job's from 0: keep what nvidia-smi shows.
    assert [g["index"] for g in _allocated(node[:1], "5")] == [0]
    assert [g["index"] for g in _allocated(node, None)] == [0, 1, 2, 3]
