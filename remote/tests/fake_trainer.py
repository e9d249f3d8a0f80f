"""A real trainer process without torch, for supervisor and UI tests.

Same CLI as `gantry_remote train` (unknown flags ignored) and the same files (PROTOCOL.md):
metrics.jsonl, ckpt/ + manifest, models/ + probe + manifest, completed.json, thumbnail.png (a grey
picture whose bright column moves with the episodes, every --thumbnail-seconds (1; 0: none), with
the real PNG encoder). Its checkpoints (JSON
instead of torch state) go through the real gantry_remote.ckpt_store, so recovery from kills and
damaged manifests is the trainer's own code. It honours --resume and SIGTERM (checkpoint, exit 0).
Knobs, as flags (plan trainer_args) or env vars:
  --fake-episodes-per-sec F  (GANTRY_FAKE_EPS, default 40)   episodes per second
  --fake-metrics-s F         (GANTRY_FAKE_METRICS_S, 0.2)    seconds between metrics lines
  --fake-ckpt-every N        (default 25)                    episodes between checkpoints
  --fake-crash-at N          exit 1 once when episodes reach N (a marker file makes it once)
  --fake-crash-always        exit 1 right after start
  --fake-crash-message TEXT  last log line written before a crash (e.g. "CUDA out of memory")
  --fake-hang-at N           stop writing metrics once at N episodes (sleeps; "frozen")
  --fake-ignore-sigterm      keep running on SIGTERM (only SIGKILL stops it)
  --fake-flood-log           write ~1 MB/s of log lines
  --fake-oom-above-envs N    with --num-envs above N: print torch's OOM error at start and exit 3
                             (the real trainer's code for it), like a GPU too small for that many envs
  --fake-nan-at N            diverge at N episodes while --learning-rate is above --fake-nan-above-lr:
                             from then on metrics lines carry NaN losses and no checkpoint is written
                             (a trainer without a NaN guard: the supervisor must notice)
It takes --num-envs and --learning-rate (logged, and lr in metrics lines) like the real trainer.
"""
import argparse
import hashlib
import json
import math
import os
import random
import signal
import sys
import time
import zlib

from gantry_remote import ckpt_store, png  # on PYTHONPATH: the supervisor runs trainers with it

STEPS_PER_EPISODE = 400


def atomic_write(path, data):
    tmp = path + ".tmp-%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path, obj):
    atomic_write(path, (json.dumps(obj, indent=2) + "\n").encode())


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def parse_args(argv):
    env = os.environ.get
    p = argparse.ArgumentParser(allow_abbrev=False)
    p.add_argument("--game", required=True)
    p.add_argument("--backend", default="builtin")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--target-episodes", type=int, required=True)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--sticky-actions", type=float)  # start states it for Atari games
    p.add_argument("--num-envs", type=int, default=256)
    p.add_argument("--learning-rate", type=float, default=2.5e-4)
    p.add_argument("--thumbnail-seconds", type=float, default=1.0)  # the real trainer's flag; 0: no picture
    p.add_argument("--fake-oom-above-envs", type=int, default=0)
    p.add_argument("--fake-nan-at", type=int, default=0)
    p.add_argument("--fake-nan-above-lr", type=float, default=0.0)
    p.add_argument("--fake-episodes-per-sec", type=float, default=float(env("GANTRY_FAKE_EPS", "40")))
    p.add_argument("--fake-metrics-s", type=float, default=float(env("GANTRY_FAKE_METRICS_S", "0.2")))
    p.add_argument("--fake-ckpt-every", type=int, default=int(env("GANTRY_FAKE_CKPT_EVERY", "25")))
    p.add_argument("--fake-crash-at", type=int, default=int(env("GANTRY_FAKE_CRASH_AT", "0")))
    p.add_argument("--fake-crash-always", action="store_true", default=env("GANTRY_FAKE_CRASH_ALWAYS") == "1")
    p.add_argument("--fake-crash-message", default=env("GANTRY_FAKE_CRASH_MESSAGE", "RuntimeError: fake trainer crash"))
    p.add_argument("--fake-hang-at", type=int, default=int(env("GANTRY_FAKE_HANG_AT", "0")))
    p.add_argument("--fake-ignore-sigterm", action="store_true", default=env("GANTRY_FAKE_IGNORE_SIGTERM") == "1")
    p.add_argument("--fake-flood-log", action="store_true", default=env("GANTRY_FAKE_FLOOD_LOG") == "1")
    args, unknown = p.parse_known_args(argv)
    if unknown:
        print("fake trainer: ignoring unknown flags %s" % " ".join(unknown), flush=True)
    return args


class FakeTrainer:
    def __init__(self, args):
        self.args = args
        self.dir = args.run_dir
        self.ckpt_dir = os.path.join(self.dir, "ckpt")
        self.models_dir = os.path.join(self.dir, "models")
        os.makedirs(self.ckpt_dir, exist_ok=True)
        os.makedirs(self.models_dir, exist_ok=True)
        self.episodes = 0.0
        self.global_step = 0
        self.rng = random.Random(zlib.crc32(args.game.encode()))
        self.base_return = 5 + (zlib.crc32(args.game.encode()) % 20)
        self.term = False
        self.diverged = False
        ckpt_store.recover(self.ckpt_dir, json.loads, log=self.log)
        if args.resume:
            self._load_checkpoint()

    # -- files --------------------------------------------------------------------------

    def mean_return(self):
        # Rises quickly then flattens, like a learning curve, with a little noise.
        return round(self.base_return * (1 + math.log1p(self.episodes / 10.0)) + self.rng.uniform(-1, 1), 3)

    @staticmethod
    def log(message):
        print("fake trainer: " + message, flush=True)

    def _load_checkpoint(self):
        loaded = ckpt_store.load_latest(self.ckpt_dir, json.loads, log=self.log)
        if loaded is None:
            self.log("--resume given but no checkpoint; starting fresh")
            return
        data, entry = loaded
        self.episodes = float(data["episodes"])
        self.global_step = int(data["global_step"])
        self.log("resumed from %s at %d episodes" % (entry["file"], self.episodes))

    def checkpoint(self):
        data = json.dumps({"episodes": int(self.episodes), "global_step": self.global_step,
                           "weights": [self.rng.random() for _ in range(64)]}).encode()
        ckpt_store.save(self.ckpt_dir, data, self.global_step, int(self.episodes))

    def export_model(self):
        name = "%s-%d.onnx" % (self.args.game, self.global_step)
        model = b"FAKEONNX" + hashlib.sha256(name.encode()).digest() * 8
        atomic_write(os.path.join(self.models_dir, name), model)
        probe = json.dumps({"input_name": "obs", "input_shape": [1, 4], "input": [0.0, 0.5, 1.0, 0.25],
                            "output_name": "logits", "output": [0.1, -0.2, 0.3]}).encode()
        atomic_write(os.path.join(self.models_dir, name + ".probe.json"), probe)
        path = os.path.join(self.models_dir, "manifest.json")
        entries = (read_json(path, {}) or {}).get("models", [])
        entries.append({"file": name, "sha256": hashlib.sha256(model).hexdigest(), "size": len(model),
                        "global_step": self.global_step, "episodes": int(self.episodes),
                        "mean_return": self.mean_return(), "ts": round(time.time(), 3),
                        "probe": name + ".probe.json", "probe_sha256": hashlib.sha256(probe).hexdigest()})
        write_json(path, {"models": entries})

    def picture(self):
        column = int(self.episodes) % 84
        row = bytes(255 if abs(x - column) < 3 else 40 for x in range(84))
        atomic_write(os.path.join(self.dir, "thumbnail.png"), png.encode_png(84, 84, row * 84))

    def metrics_line(self, sps, eph):
        nan = float("nan")
        line = {"ts": round(time.time(), 3), "global_step": self.global_step, "episodes": int(self.episodes),
                "mean_return": nan if self.diverged else self.mean_return(), "max_return": self.mean_return() + 5,
                "sps": round(sps, 1), "episodes_per_hour": round(eph, 1), "lr": self.args.learning_rate,
                "losses": {"policy": nan if self.diverged else -0.01, "value": nan if self.diverged else 0.5,
                           "entropy": 1.2, "approx_kl": 0.01, "clipfrac": 0.1},
                "gpu_mem_mb": None}
        with open(os.path.join(self.dir, "metrics.jsonl"), "a") as f:
            f.write(json.dumps(line) + "\n")

    def _once(self, kind, at):
        """True the first time this knob fires for this game (marker survives restarts)."""
        marker = os.path.join(self.dir, ".fake-%s-%d" % (kind, at))
        if os.path.exists(marker):
            return False
        open(marker, "w").close()
        return True

    # -- main loop ----------------------------------------------------------------------

    def run(self):
        a = self.args
        signal.signal(signal.SIGTERM, signal.SIG_IGN if a.fake_ignore_sigterm else self._on_term)
        print("fake trainer: %s backend=%s target=%d pid=%d num_envs=%d lr=%g" % (
            a.game, a.backend, a.target_episodes, os.getpid(), a.num_envs, a.learning_rate), flush=True)
        if a.fake_oom_above_envs and a.num_envs > a.fake_oom_above_envs:
            time.sleep(0.05)
            print("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate %d MiB for %d envs" % (
                a.num_envs * 8, a.num_envs), flush=True)
            return 3
        if a.fake_crash_always:
            time.sleep(0.05)
            print(a.fake_crash_message, flush=True)
            return 1
        last = time.monotonic()
        next_metrics = next_picture = last
        next_ckpt = (int(self.episodes) // a.fake_ckpt_every + 1) * a.fake_ckpt_every
        while True:
            time.sleep(0.02)
            now = time.monotonic()
            dt, last = now - last, now
            if self.term:
                if self.diverged:  # like ppo.py's guard: non-finite weights are never checkpointed
                    print("fake trainer: SIGTERM with non-finite weights; no checkpoint written", flush=True)
                    return 3
                self.checkpoint()
                print("fake trainer: SIGTERM, checkpointed at %d episodes" % self.episodes, flush=True)
                export_request = os.path.join(self.dir, "export-on-stop.json")
                if os.path.exists(export_request):  # a stop at the budget: leave a model too
                    self.export_model()
                    os.unlink(export_request)
                    print("fake trainer: exported on stop", flush=True)
                return 0
            if a.fake_flood_log:
                sys.stdout.write(("flood %d " % self.global_step) * 2000 + "\n")
            self.episodes = min(float(a.target_episodes), self.episodes + a.fake_episodes_per_sec * dt)
            self.global_step = int(self.episodes * STEPS_PER_EPISODE)
            eps = int(self.episodes)
            if a.fake_crash_at and eps >= a.fake_crash_at and self._once("crash", a.fake_crash_at):
                print(a.fake_crash_message, flush=True)
                return 1
            if a.fake_hang_at and eps >= a.fake_hang_at and self._once("hang", a.fake_hang_at):
                print("fake trainer: hanging at %d episodes" % eps, flush=True)
                while True:
                    time.sleep(3600)
            if a.fake_nan_at and eps >= a.fake_nan_at and a.learning_rate > a.fake_nan_above_lr and not self.diverged:
                self.diverged = True
                print("fake trainer: losses are NaN from %d episodes (lr %g)" % (eps, a.learning_rate), flush=True)
            if eps >= next_ckpt and not self.diverged:
                self.checkpoint()
                next_ckpt += a.fake_ckpt_every
            if a.thumbnail_seconds > 0 and now >= next_picture:
                self.picture()
                next_picture = now + a.thumbnail_seconds
            if now >= next_metrics or eps >= a.target_episodes:
                self.metrics_line(a.fake_episodes_per_sec * STEPS_PER_EPISODE, a.fake_episodes_per_sec * 3600)
                next_metrics = now + a.fake_metrics_s
            if eps >= a.target_episodes and not self.diverged:
                self.checkpoint()
                self.export_model()
                write_json(os.path.join(self.dir, "completed.json"),
                           {"episodes": eps, "global_step": self.global_step, "ts": round(time.time(), 3)})
                print("fake trainer: target reached", flush=True)
                return 0

    def _on_term(self, _signum, _frame):
        self.term = True


if __name__ == "__main__":
    sys.exit(FakeTrainer(parse_args(sys.argv[1:])).run())
