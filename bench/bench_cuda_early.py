"""How much the early CUDA context (gantry_remote/cuda_early.py) takes off a trainer's start.

    python3 bench/bench_cuda_early.py [--runs 4]

Each run is a fresh interpreter that does what a GPU trainer's first seconds do: import torch,
torch.cuda.init(), one convolution forward and backward on the device. `plain` does it as torch
alone would; `early` first starts gantry_remote.cuda_early.EarlyContext (the driver creating the
device's primary context on a thread while torch imports), as `python -m gantry_remote train` does.
The two kinds alternate so a machine warming up favours neither. Needs a CUDA GPU.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REMOTE = Path(__file__).resolve().parents[1] / "remote"

ONE_RUN = r"""
import json, sys, time
t0 = time.perf_counter()
early = None
if sys.argv[1] == "early":
    from gantry_remote.cuda_early import EarlyContext
    early = EarlyContext(0)
import torch
t1 = time.perf_counter()
outcome = early.outcome(wait_s=10.0) if early else ""
torch.cuda.init()
torch.zeros(1, device="cuda")
torch.cuda.synchronize()
t2 = time.perf_counter()
conv = torch.nn.Conv2d(4, 32, 8, 4).cuda()
conv(torch.zeros(256, 4, 84, 84, device="cuda")).sum().backward()
torch.cuda.synchronize()
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "cuda_init": t2 - t1, "first_conv": t3 - t2, "total": t3 - t0, "outcome": outcome}))
"""


def one(kind: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REMOTE))
    out = subprocess.run([sys.executable, "-c", ONE_RUN, kind], capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        raise SystemExit("%s run failed:\n%s" % (kind, out.stderr[-2000:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=4)
    opts = parser.parse_args()
    runs = {"plain": [], "early": []}
    for _ in range(opts.runs):
        for kind in runs:
            runs[kind].append(one(kind))
    print("| kind | import torch s | CUDA init after it s | first conv s | total s (median) | totals |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for kind, rows in runs.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("import", "cuda_init", "first_conv", "total")}
        print("| %s | %.2f | %.2f | %.2f | %.2f | %s |" % (kind, med["import"], med["cuda_init"], med["first_conv"], med["total"],
                                                        ", ".join("%.2f" % r["total"] for r in rows)))
    print(runs["early"][-1]["outcome"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
