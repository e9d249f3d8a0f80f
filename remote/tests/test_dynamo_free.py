"""A trainer that compiles nothing never imports TorchDynamo, and trains exactly as with torch's own step."""
import json
import os
import subprocess
import sys
from pathlib import Path

REMOTE = Path(__file__).resolve().parents[1]

TRAIN = r"""
import hashlib, json, sys
import torch
from gantry_remote import dynamo_free
from gantry_remote.fast_path import update_epoch
from gantry_remote.nets import make_agent

free = sys.argv[1] == "free"
enabled = dynamo_free.enable() if free else None
torch.manual_seed(0)
agent = make_agent((4, 10, 10), 3)
optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3, eps=1e-5)

def loss_fn(obs, target):
    logits, value = agent(obs)
    loss = ((logits.mean(-1) + value - target) ** 2).mean()
    return loss, torch.stack([loss.detach()] * 5)

batch = (torch.rand(64, 4, 10, 10), torch.rand(64))
for _ in range(3):
    update_epoch(agent, optimizer, loss_fn, batch, torch.randperm(64), 16, 0.5)
state = optimizer.state_dict()
optimizer.load_state_dict(state)
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in agent.parameters())).hexdigest()
print(json.dumps({"enabled": enabled, "dynamo_imported": "torch._dynamo" in sys.modules, "weights": digest}))
"""


def run(mode):
    env = dict(os.environ, PYTHONPATH=str(REMOTE), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", TRAIN, mode], capture_output=True, text=True, env=env, timeout=180, cwd=REMOTE)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_optimizer_steps_and_state_round_trip_without_importing_dynamo_and_with_the_same_weights():
    free, standard = run("free"), run("standard")
    assert free["enabled"] is True
    assert free["dynamo_imported"] is False
    assert standard["dynamo_imported"] is True  # what the trainer paid before: torch.optim imports it
    assert free["weights"] == standard["weights"]
