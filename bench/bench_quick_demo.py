"""Quick demo benchmark: runs resources/plans/quick-demo.json end to end with the real supervisor
and trainers on this machine (CPU), and reports the wall time and the CPU time of every process
of the run, so that a number taken on a busy machine still says what 2 idle cores would take.

    python3 bench/bench_quick_demo.py                 # prints a table, appends it to BENCHMARKS.md
    python3 bench/bench_quick_demo.py --no-append

"Idle 2-core estimate" = CPU seconds of the run / 2: what the run needs when it has both cores to
itself (a lower bound; the run cannot use more than 2 cores).
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "resources" / "plans" / "quick-demo.json"
TICKS = os.sysconf("SC_CLK_TCK")


def cli(root, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "remote"))
    out = subprocess.run([sys.executable, "-m", "gantry_remote", *args, "--root", root], env=env, capture_output=True, text=True,
                         check=False)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_of_run(root, seen):
    """Adds the CPU ticks of every live process whose argv mentions the run's root to `seen`."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
            if root not in argv:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seen[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            continue


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--timeout", type=float, default=3600)
    a = ap.parse_args()
    root = tempfile.mkdtemp(prefix="gantry-quick-demo-")
    load_before = os.getloadavg()
    started = time.time()
    run_id = cli(root, "start", "--plan", str(PLAN))["run_id"]
    seen, loads, finished = {}, [], {}
    status = {}
    while time.time() - started < a.timeout:
        cpu_of_run(root, seen)
        loads.append(os.getloadavg()[0])
        status = cli(root, "status", "--run", run_id, "--json")
        for g in status.get("games", []):
            if g.get("state") == "completed" and g["game"] not in finished:
                finished[g["game"]] = time.time() - started
        if status.get("state") in ("completed", "failed", "stopped"):
            break
        time.sleep(1)
    wall = time.time() - started
    cpu_s = sum(seen.values()) / TICKS
    games = status.get("games", [])
    rows = ["| game | target episodes | episodes | mean return | done at (s) |", "|---|---|---|---|---|"]
    for g in games:
        rows.append("| %s | %s | %s | %s | %s |" % (g["game"], g.get("target_episodes"), g.get("episodes"), g.get("mean_return"),
                                                   round(finished[g["game"]]) if g["game"] in finished else "—"))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([
        "### %s — %s, %d CPU threads, Python %s" % (stamp, platform.machine(), os.cpu_count(), platform.python_version()),
        "",
        "`python3 bench/bench_quick_demo.py` — run state: %s" % status.get("state"),
        "",
        "Wall %.0f s; CPU of the run %.0f s, so about %.0f s (%.1f min) on 2 idle cores. Load average: %.1f before, "
        "%.1f mean during (other work shared the machine)." % (wall, cpu_s, cpu_s / 2, cpu_s / 120, load_before[0],
                                                               sum(loads) / max(1, len(loads))),
        "",
        *rows,
        "",
    ])
    print(text)
    if not a.no_append:
        bench = ROOT / "BENCHMARKS.md"
        body = bench.read_text()
        header = "## Quick demo (bench/bench_quick_demo.py)\n"
        if header not in body:
            body += "\n" + header + "\nThe quick demo plan end to end on CPU: real supervisor, real trainers.\n"
        bench.write_text(body + "\n" + text)
    cli(root, "stop", "--run", run_id, "--wait")
    return 0 if status.get("state") == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
