"""SLURM scheduler costs on the real single-node test cluster (remote/tests/slurm_rig.py):

1. Launch → all jobs submitted: `start` of a 10-game plan (writes the job script, one sbatch of the
   array) until squeue lists all 10 array tasks.
2. One `sync` on that run while its 10 games train (fake trainer, metrics every 0.2 s), each job
   samples 8 GPUs (a stand-in nvidia-smi) into its game folder, and its journal holds 100k lines:
   CPU seconds of the sync process and everything it runs (squeue, sinfo), as the login node pays
   it. Budget: < 1 s.

    .venv/bin/python bench/bench_slurm.py [--syncs 20] [--out result.json]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
REMOTE = os.path.join(REPO, "remote")
sys.path[:0] = [REMOTE, os.path.join(REMOTE, "tests")]

from slurm_rig import SlurmRig, slurm_unavailable_reason  # noqa: E402

from gantry_remote import state as run_state  # noqa: E402
from gantry_remote.journal import Journal  # noqa: E402

FAKE_TRAINER = os.path.join(REMOTE, "tests", "fake_trainer.py")
GAMES = ["breakout", "freeway", "asterix", "seaquest", "space_invaders", "pong", "qbert", "enduro", "alien", "boxing"]


def cli(env, root, *args):
    started = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gantry_remote", args[0], "--root", root] + list(args[1:]),
                          capture_output=True, text=True, env=env, cwd=REMOTE, check=False)
    wall = time.perf_counter() - wall
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit("%s failed: %s %s" % (args[0], proc.stdout, proc.stderr))
    cpu = (ended.ru_utime - started.ru_utime) + (ended.ru_stime - started.ru_stime)
    return json.loads(proc.stdout), wall, cpu


def pad_journal(run_path, run_id, lines):
    st = run_state.load(run_path)
    journal = Journal(os.path.join(run_path, "events.jsonl"), run_id, seq_floor=st["last_seq"])
    for i in range(lines):
        journal.append("progress", game=GAMES[i % 10], episodes=i, target_episodes=10 ** 9, mean_return=1.0,
                       global_step=i * 400, sps=1000.0, episodes_per_hour=3600.0)
    st["last_seq"] = journal.last_seq
    run_state.save(run_path, st)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--syncs", type=int, default=20)
    ap.add_argument("--journal-lines", type=int, default=100000)
    ap.add_argument("--out")
    args = ap.parse_args()
    reason = slurm_unavailable_reason()
    if reason:
        raise SystemExit(reason)
    rig = SlurmRig(cpus=12).start()
    try:
        root = os.path.join(rig.dir, "gantry")
        os.makedirs(root)
        smi = os.path.join(rig.dir, "nvidia-smi")  # 8 GPUs per node: sync merges 10 jobs' samples
        with open(smi, "w") as f:
            f.write("#!/bin/sh\n" + "".join('echo "%d, NVIDIA H100 80GB HBM3, 87, 40000, 81559, 64, 512.5"\n' % i
                                              for i in range(8)))
        os.chmod(smi, 0o755)
        env = dict(rig.env, PYTHONPATH=REMOTE, GANTRY_PROGRESS_INTERVAL_S="30", GANTRY_NVIDIA_SMI=smi,
                   GANTRY_TRAINER_COMMAND=json.dumps([sys.executable, FAKE_TRAINER]))
        plan = {"name": "bench", "slots": 10,
                "games": [{"game": g, "backend": "ale", "target_episodes": 10 ** 9,
                           "trainer_args": {"fake_episodes_per_sec": 5}} for g in GAMES],
                "scheduler": {"kind": "slurm", "partition": "debug", "cpus_per_task": 1}}
        plan_path = os.path.join(root, "plan.json")
        with open(plan_path, "w") as f:
            json.dump(plan, f)
        t0 = time.perf_counter()
        out, start_wall, _ = cli(env, root, "start", "--plan", plan_path)
        while True:
            listed = rig.run("squeue", "-h", "-r", "--name=gantry-" + out["run_id"], "-o", "%K").stdout.split()
            if len(listed) >= len(GAMES):
                break
            time.sleep(0.01)
        submitted_s = time.perf_counter() - t0
        run_path = os.path.join(root, "runs", out["run_id"])
        # Wait until every game runs, so each sync reads 10 live metrics files.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            view, _, _ = cli(env, root, "status", "--run", out["run_id"])
            if all(g["state"] == "running" for g in view["games"]):
                break
            time.sleep(1)
        pad_journal(run_path, out["run_id"], args.journal_lines)
        walls, cpus = [], []
        for _ in range(args.syncs):
            _, wall, cpu = cli(env, root, "sync", "--run", out["run_id"])
            walls.append(wall)
            cpus.append(cpu)
            time.sleep(0.3)
        with open(os.path.join(run_path, "events.jsonl"), "rb") as f:
            journal_lines = sum(1 for _ in f)
        gpu_files = sum(os.path.exists(os.path.join(run_path, "games", g, "gpu.json")) for g in GAMES)
        result = {
            "games": len(GAMES), "gpu_files": gpu_files, "journal_lines": journal_lines, "start_cli_s": round(start_wall, 3),
            "sbatch_s": out["submit_s"], "launch_to_all_submitted_s": round(submitted_s, 3),
            "sync_cpu_s_median": round(statistics.median(cpus), 3), "sync_cpu_s_max": round(max(cpus), 3),
            "sync_wall_s_median": round(statistics.median(walls), 3), "syncs": args.syncs,
            "slurm": rig.run("sinfo", "--version").stdout.strip(),
        }
        print(json.dumps(result, indent=2))
        if args.out:
            with open(args.out, "w") as f:
                json.dump(result, f, indent=2)
    finally:
        rig.stop()


if __name__ == "__main__":
    main()
