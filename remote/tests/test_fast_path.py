"""The CUDA-graph fast path (gantry_remote/fast_path.py): its eager functions against the
trainer's eager loop on a CPU; the captured graphs against those functions on a GPU, and the
trainer with them (built-in games: rollout + update graphs; real Atari: the update graph)."""
import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REMOTE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REMOTE))

from gantry_remote.envs import make_builtin  # noqa: E402
from gantry_remote.fast_path import (  # noqa: E402
    GraphedPPO,
    GraphedUpdate,
    RolloutBuffers,
    collect_rollout,
    compute_gae,
    device_permutation,
    learning_rate,
    load_optimizer_state,
    portable_optimizer_state,
    set_learning_rate,
    update_epoch,
)
from gantry_remote.nets import make_agent  # noqa: E402
from gantry_remote.ppo import evaluate_actions, sample_actions  # noqa: E402

CUDA = torch.cuda.is_available()


def reference_gae(rewards, values, dones, next_value, next_done, gamma, lam):
    """The trainer's eager loop (ppo.py), verbatim apart from names."""
    T = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    last_gae = torch.zeros(rewards.shape[1])
    next_nonterminal = 1.0 - next_done.float()
    for t in reversed(range(T)):
        bootstrap = next_value if t == T - 1 else values[t + 1]
        nonterminal = next_nonterminal if t == T - 1 else 1.0 - dones[t + 1]
        delta = rewards[t] + gamma * bootstrap * nonterminal - values[t]
        last_gae = delta + gamma * lam * nonterminal * last_gae
        advantages[t] = last_gae
    return advantages, advantages + values


def test_gae_matches_the_trainer_loop_and_fills_the_static_buffer():
    g = torch.Generator().manual_seed(0)
    T, N = 16, 5
    rewards = torch.randn(T, N, generator=g)
    values = torch.randn(T, N, generator=g)
    dones = (torch.rand(T, N, generator=g) < 0.2).float()
    next_value = torch.randn(N, generator=g)
    next_done = torch.rand(N, generator=g) < 0.3
    out = torch.full((T, N), float("nan"))
    adv, ret = compute_gae(rewards, values, dones, next_value, next_done, 0.99, 0.95, out=out)
    ref_adv, ref_ret = reference_gae(rewards, values, dones, next_value, next_done, 0.99, 0.95)
    assert adv is out
    assert torch.allclose(adv, ref_adv, atol=1e-6) and torch.allclose(ret, ref_ret, atol=1e-6)
    # no bootstrap across an episode end: the step before a done sees only its reward
    t, n = int(torch.nonzero(dones[1:])[0, 0]), int(torch.nonzero(dones[1:])[0, 1])
    assert torch.isclose(adv[t, n], rewards[t, n] - values[t, n], atol=1e-6)


def _policy_step(agent):
    def step(obs):
        with torch.no_grad():
            logits, value = agent(obs)
        action, logprob = sample_actions(logits)
        return action, logprob, value.float()
    return step


def test_collect_rollout_matches_the_eager_env_step_loop():
    T, N = 12, 6
    agent = make_agent((4, 10, 10), 3)
    policy_step = _policy_step(agent)

    # The trainer's loop, through the env's public step().
    env = make_builtin("breakout", N, seed=5)
    torch.manual_seed(7)
    next_obs, next_done = env.reset(), torch.zeros(N, dtype=torch.bool)
    ref = RolloutBuffers.allocate(T, N, env.obs_shape, next_obs.dtype, torch.device("cpu"))
    for t in range(T):
        ref.obs[t], ref.dones[t] = next_obs, next_done
        action, logprob, value = policy_step(next_obs)
        ref.values[t], ref.actions[t], ref.logprobs[t] = value, action, logprob
        result = env.step(action)
        next_obs, next_done = result.obs, result.terminated | result.truncated
        ref.rewards[t], ref.ended[t], ref.ep_return[t] = result.reward, next_done, result.episode_return

    # The graph's function, on the pure step and an explicit state.
    env2 = make_builtin("breakout", N, seed=5)
    torch.manual_seed(7)
    obs0 = env2.reset()
    buf = RolloutBuffers.allocate(T, N, env2.obs_shape, obs0.dtype, torch.device("cpu"))
    state, obs, done = collect_rollout(env2._step_fn, env2._state, obs0, torch.zeros(N, dtype=torch.bool), policy_step, buf)

    for name in ("obs", "actions", "logprobs", "rewards", "dones", "values", "ended", "ep_return"):
        assert torch.equal(getattr(buf, name), getattr(ref, name)), name
    assert torch.equal(obs, next_obs) and torch.equal(done, next_done)
    env2._state = state
    for key, value in env.state_dict().items():
        assert torch.equal(value, env2.state_dict()[key]), key


def _loss(agent):
    def minibatch_loss(obs, actions, logprobs, advantages, returns, values):
        logits, new_value = agent(obs)
        new_logprob, entropy = evaluate_actions(logits, actions)
        ratio = (new_logprob - logprobs).exp()
        pg = torch.max(-advantages * ratio, -advantages * ratio.clamp(0.8, 1.2)).mean()
        v = 0.5 * ((new_value - returns) ** 2).mean()
        loss = pg + 0.5 * v - 0.01 * entropy.mean()
        return loss, torch.stack([pg.detach(), v.detach(), entropy.mean().detach(), ratio.mean().detach(), values.mean()])
    return minibatch_loss


def _batch(B, g):
    return ((torch.rand(B, 4, 10, 10, generator=g) < 0.3).float(), torch.randint(0, 3, (B,), generator=g),
            -torch.rand(B, generator=g) - 0.5, torch.randn(B, generator=g), torch.randn(B, generator=g), torch.randn(B, generator=g))


def test_update_epoch_gathers_the_same_minibatches_as_the_trainer_loop():
    torch.manual_seed(0)
    B, mb = 96, 32
    batch = _batch(B, torch.Generator().manual_seed(1))
    order = torch.randperm(B)
    a = make_agent((4, 10, 10), 3)
    b = copy.deepcopy(a)
    opt_a = torch.optim.Adam(a.parameters(), lr=1e-3, eps=1e-5)
    opt_b = torch.optim.Adam(b.parameters(), lr=1e-3, eps=1e-5)

    stats = update_epoch(a, opt_a, _loss(a), batch, order, mb, 0.5)

    loss_b = _loss(b)
    for start in range(0, B, mb):  # the trainer's inner loop
        idx = order[start:start + mb]
        loss, ref_stats = loss_b(*(x[idx] for x in batch))
        opt_b.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(b.parameters(), 0.5)
        opt_b.step()
    assert torch.equal(stats, ref_stats)
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(pa, pb), name


def test_device_permutation_is_a_permutation():
    torch.manual_seed(3)
    perm = device_permutation(1000, torch.device("cpu"))
    assert torch.equal(torch.sort(perm).values, torch.arange(1000))


def test_optimizer_state_travels_between_tensor_and_float_learning_rates():
    net = torch.nn.Linear(3, 2)
    graph_opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    graph_opt.param_groups[0]["lr"] = torch.tensor(1e-3)  # what GraphedUpdate does on CUDA
    set_learning_rate(graph_opt, 4e-4)
    net(torch.ones(1, 3)).sum().backward()
    graph_opt.step()
    saved = portable_optimizer_state(copy.deepcopy(graph_opt.state_dict()))
    saved["param_groups"][0]["capturable"] = True  # as written by a capturable GPU optimizer
    assert saved["param_groups"][0]["lr"] == pytest.approx(4e-4) and isinstance(saved["param_groups"][0]["lr"], float)

    eager_opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    load_optimizer_state(eager_opt, saved)
    assert learning_rate(eager_opt) == pytest.approx(4e-4)
    assert eager_opt.param_groups[0]["capturable"] is False  # a CPU optimizer must stay non-capturable
    assert torch.equal(eager_opt.state_dict()["state"][0]["exp_avg"], graph_opt.state_dict()["state"][0]["exp_avg"])
    eager_opt.step()  # and it still steps

    lr_tensor = torch.tensor(9.0)
    tensor_opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    tensor_opt.param_groups[0]["lr"] = lr_tensor
    load_optimizer_state(tensor_opt, saved)
    assert tensor_opt.param_groups[0]["lr"] is lr_tensor and float(lr_tensor) == pytest.approx(4e-4)


@pytest.mark.parametrize("game, backend", [("breakout", "builtin"), ("Breakout", "ale")])
def test_cuda_graphs_flag_without_cuda_is_a_clear_error(tmp_path, game, backend):
    env = dict(os.environ, PYTHONPATH=str(REMOTE), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "gantry_remote", "train", "--game", game, "--backend", backend,
                           "--run-dir", str(tmp_path), "--device", "cpu", "--cuda-graphs", "--no-export"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "--cuda-graphs needs a CUDA device" in proc.stdout
    assert "--no-cuda-graphs" in proc.stdout and not (tmp_path / "metrics.jsonl").exists()


# ---------------------------------------------------------------------------------------------
# On a GPU: the captured graphs compute what the eager functions compute
# ---------------------------------------------------------------------------------------------
@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_graphs_replay_the_eager_rollout_and_epoch():
    dev = torch.device("cuda")
    T, N, mb = 8, 64, 128
    torch.manual_seed(0)
    env = make_builtin("breakout", N, device=dev, seed=2)
    agent = make_agent(env.obs_shape, env.num_actions).to(dev)
    twin = copy.deepcopy(agent)
    opt = torch.optim.Adam(agent.parameters(), lr=1e-3, eps=1e-5, fused=True, capturable=True)
    twin_opt = torch.optim.Adam(twin.parameters(), lr=1e-3, eps=1e-5)
    obs0 = env.reset()
    done0 = torch.zeros(N, dtype=torch.bool, device=dev)
    state0 = {k: (v.clone() if not isinstance(v, dict) else {kk: vv.clone() for kk, vv in v.items()}) for k, v in env._state.items()}

    def bootstrap(a):
        def value(obs):
            with torch.no_grad():
                return a.value(obs).float()
        return value

    g = GraphedPPO(env, agent, opt, num_steps=T, minibatch_size=mb, gamma=0.99, gae_lambda=0.95, max_grad_norm=0.5,
                   policy_step=_policy_step(agent), bootstrap_value=bootstrap(agent), minibatch_loss=_loss(agent),
                   next_obs=obs0, next_done=done0)
    for p, q in zip(agent.parameters(), twin.parameters()):
        assert torch.equal(p, q)  # the warm-up was undone
    rng = torch.cuda.get_rng_state()
    buf = g.rollout()
    stats = g.update_epoch().clone()
    torch.cuda.synchronize()

    torch.cuda.set_rng_state(rng)
    ref = RolloutBuffers.allocate(T, N, env.obs_shape, obs0.dtype, dev)
    state, obs, done = collect_rollout(env._step_pure, state0, obs0, done0, _policy_step(twin), ref)
    adv, ret = compute_gae(ref.rewards, ref.values, ref.dones, bootstrap(twin)(obs), done, 0.99, 0.95)
    for name in ("obs", "actions", "rewards", "dones", "ended", "ep_return"):
        assert torch.equal(getattr(buf, name), getattr(ref, name)), name
    assert torch.allclose(buf.values, ref.values, atol=1e-4) and torch.allclose(buf.advantages, adv, atol=1e-3)
    assert torch.equal(g.next_obs, obs) and torch.equal(g.next_done, done)
    assert torch.equal(env.state_dict()["counter"], state["counter"])  # the env sees the graph's state

    ref_stats = update_epoch(twin, twin_opt, _loss(twin), ref.flat_batch()[:3] + (adv.view(-1), ret.view(-1), ref.values.view(-1)),
                             device_permutation(T * N, dev), mb, 0.5)
    assert torch.allclose(stats, ref_stats, atol=1e-3)
    for p, q in zip(agent.parameters(), twin.parameters()):
        assert torch.allclose(p, q, atol=1e-4)

    set_learning_rate(opt, 0.0)  # a zero learning rate through the captured step leaves the weights
    before = [p.clone() for p in agent.parameters()]
    g.update_epoch()
    assert all(torch.equal(p, q) for p, q in zip(agent.parameters(), before))


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_graph_trainer_checkpoints_resume_on_gpu_and_on_cpu(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REMOTE))
    base = [sys.executable, "-m", "gantry_remote", "train", "--game", "breakout", "--backend", "builtin", "--num-envs", "64",
            "--num-steps", "16", "--minibatch-size", "256", "--metrics-seconds", "0", "--seed", "4"]

    def run(run_dir, *extra):
        proc = subprocess.run(base + ["--run-dir", str(run_dir), *extra], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    out = run(tmp_path / "a", "--device", "cuda", "--total-steps", str(1024 * 20))
    assert "captured CUDA graphs" in out
    manifest = json.loads((tmp_path / "a" / "models" / "manifest.json").read_text())["models"]
    assert manifest[-1]["global_step"] == 1024 * 20
    rows = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["episodes"] > 0 and 0 < rows[-1]["lr"] < 2.5e-4

    out = run(tmp_path / "a", "--device", "cuda", "--total-steps", str(1024 * 30), "--resume")
    assert "resumed from ckpt-%d.pt" % (1024 * 20) in out and "captured CUDA graphs" in out
    out = run(tmp_path / "a", "--device", "cpu", "--total-steps", str(1024 * 32), "--resume", "--no-export")
    assert "resumed from ckpt-%d.pt" % (1024 * 30) in out
    done = json.loads((tmp_path / "a" / "completed.json").read_text())
    assert done["global_step"] == 1024 * 32


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_captured_update_epoch_replays_the_eager_epoch_on_what_an_eager_rollout_wrote():
    """Atari's path: the rollout stays eager and writes into the graph's static buffers after the capture;
    each replay must train on the rollout written last, exactly as the eager update_epoch does."""
    dev = torch.device("cuda")
    T, N, mb = 8, 32, 64
    torch.manual_seed(0)
    agent = make_agent((4, 10, 10), 3).to(dev)
    twin = copy.deepcopy(agent)
    opt = torch.optim.Adam(agent.parameters(), lr=1e-3, eps=1e-5, fused=True, capturable=True)
    twin_opt = torch.optim.Adam(twin.parameters(), lr=1e-3, eps=1e-5)
    buf = RolloutBuffers.allocate(T, N, (4, 10, 10), torch.float32, dev)
    g = GraphedUpdate(agent, opt, buf, minibatch_size=mb, max_grad_norm=0.5, minibatch_loss=_loss(agent))
    assert g.buffers is buf  # the trainer's rollout keeps writing where it did
    for p, q in zip(agent.parameters(), twin.parameters()):
        assert torch.equal(p, q)  # the warm-up was undone
    initial = [p.clone() for p in agent.parameters()]

    for data_seed in (1, 2):  # two rollouts: the second replay must see the second rollout's data
        data = _batch(T * N, torch.Generator().manual_seed(data_seed))
        for name, x in zip(("obs", "actions", "logprobs", "advantages", "returns", "values"), data):
            target = getattr(buf, name)
            target.copy_(x.to(dev).view(target.shape))  # as the eager rollout and GAE write: in place
        rng = torch.cuda.get_rng_state()
        stats = g.update_epoch().clone()
        torch.cuda.synchronize()
        torch.cuda.set_rng_state(rng)
        ref_stats = update_epoch(twin, twin_opt, _loss(twin), buf.flat_batch(), device_permutation(T * N, dev), mb, 0.5)
        assert torch.allclose(stats, ref_stats, atol=1e-3), data_seed
        for p, q in zip(agent.parameters(), twin.parameters()):
            assert torch.allclose(p, q, atol=1e-4), data_seed
    assert not all(torch.equal(p, q) for p, q in zip(agent.parameters(), initial))  # the replays trained

    set_learning_rate(opt, 0.0)  # the captured step reads the learning rate tensor
    before = [p.clone() for p in agent.parameters()]
    g.update_epoch()
    assert all(torch.equal(p, q) for p, q in zip(agent.parameters(), before))


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_atari_trainer_on_gpu_captures_the_update_and_survives_sigterm_and_resume(tmp_path):
    """Real Breakout (ale-py) on a GPU with the trainer's Atari defaults but small: the eager rollout,
    the update graph, a SIGTERM, a resume on the GPU (graphs again) and one on the CPU (eager)."""
    pytest.importorskip("ale_py", reason="pip install 'ale-py>=0.12.1' (on the GPU host: the wheel carried in .whl/, BENCHMARKS.md)")
    env = dict(os.environ, PYTHONPATH=str(REMOTE))
    batch = 16 * 32
    base = [sys.executable, "-m", "gantry_remote", "train", "--game", "Breakout", "--backend", "ale", "--num-envs", "16",
            "--num-steps", "32", "--metrics-seconds", "0", "--seed", "4", "--no-export"]
    run_dir = tmp_path / "Breakout"

    def run(*extra):
        proc = subprocess.run(base + ["--run-dir", str(run_dir), *extra], capture_output=True, text=True, env=env,
                              timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    out = run("--device", "cuda", "--total-steps", str(batch * 6))
    assert "minibatch 256," in out  # the Atari default: 2 minibatches of this 512-step rollout
    assert "captured CUDA graphs for the update in" in out and "for the rollout" not in out
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["global_step"] == batch * 6 and 0 < rows[-1]["lr"] < 2.5e-4  # (non-finite losses fail the run)
    (run_dir / "completed.json").unlink()

    # A SIGTERM once the graph is replaying: a checkpoint, exit 0, no completed.json.
    proc = subprocess.Popen(base + ["--run-dir", str(run_dir), "--device", "cuda", "--resume",
                                    "--total-steps", str(batch * 10000)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "captured CUDA graphs for the update" in line:
                break
        rows_before = len((run_dir / "metrics.jsonl").read_text().splitlines())
        while len((run_dir / "metrics.jsonl").read_text().splitlines()) < rows_before + 2:
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.1)  # until two replayed updates are written
        proc.send_signal(signal.SIGTERM)
        out = "".join(lines) + proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and "SIGTERM" in out and "checkpoint ckpt-" in out, out
    assert not (run_dir / "completed.json").exists()
    stopped = json.loads((run_dir / "ckpt" / "manifest.json").read_text())["checkpoints"][-1]["global_step"]
    assert stopped > batch * 6 and stopped % batch == 0

    out = run("--device", "cuda", "--resume", "--total-steps", str(stopped + batch * 3))
    assert "resumed from ckpt-%d.pt" % stopped in out and "captured CUDA graphs for the update in" in out
    out = run("--device", "cpu", "--resume", "--total-steps", str(stopped + batch * 4))
    assert "resumed from ckpt-%d.pt" % (stopped + batch * 3) in out and "captured CUDA graphs" not in out
    assert json.loads((run_dir / "completed.json").read_text())["global_step"] == stopped + batch * 4
