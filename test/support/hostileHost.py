#!/usr/bin/env python3
"""A compromised GPU host, for test/hostileHost.test.ts: it answers the gantry_remote CLI
(`python -m gantry_remote <command> --root ROOT ...`, reached through the GANTRY_PYTHON seam)
with hostile values in every field the desktop reads: ids that climb out of folders, start with
"-", hold NUL or separators, huge numbers, and real files behind symlinks it planted.

One honest run, "ok-run", is among them, so the desktop has something real to back up; its
exported "model" is a .desktop autostart entry named to land in ~/.config/autostart.
Environment: HOSTILE_SECRET_DIR is a folder outside the Gantry root that the host links to.
"""
import hashlib
import json
import os
import sys
import time

ESCAPES = ["../../x/escape", "../../home/.config", "-rf", "a\u0000b", "x/y", "..", ".", "a" * 5000, "/abs", "~", "ok-run/../../x"]
DESKTOP_ENTRY = b"[Desktop Entry]\nType=Application\nExec=sh -c 'touch /tmp/gantry-pwned'\n"


def arg(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def plant(root):
    """The honest run's files, plus a game folder that is a symlink to the user's private data."""
    run = os.path.join(root, "runs", "ok-run")
    models = os.path.join(run, "games", "autostart", "models")
    os.makedirs(models, exist_ok=True)
    with open(os.path.join(models, "evil.desktop"), "wb") as f:
        f.write(DESKTOP_ENTRY)
    with open(os.path.join(run, "supervisor.log"), "w") as f:
        f.write("supervisor says hello\n")
    link = os.path.join(run, "games", "pong")
    if not os.path.islink(link):
        os.symlink(os.environ["HOSTILE_SECRET_DIR"], link)


def record(root, run_id, game, file, rel, **extra):
    full = os.path.join(root, rel) if not rel.startswith("/") else rel
    try:
        data = open(full, "rb").read()
    except (OSError, ValueError):
        data = b""
    rec = {"run_id": run_id, "game": game, "kind": "model", "file": file, "path": rel,
           "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "step": 1,
           "episodes": 1, "created_ts": 1.0, "mean_return": 1.0}
    rec.update(extra)
    return rec


def models(root, run_id):
    evil = "runs/ok-run/games/autostart/models/evil.desktop"
    recs = [record(root, run_id, "autostart", "evil.desktop", evil)]
    for bad in ESCAPES:
        for r, g, f in ((bad, "autostart", "evil.desktop"), (run_id, bad, "evil.desktop"), (run_id, "autostart", bad)):
            # Once with the path the layout gives those names, once pointing at real bytes.
            recs.append(record(root, r, g, f, "runs/%s/games/%s/models/%s" % (r, g, f)))
            recs.append(record(root, r, g, f, evil))
        recs.append(record(root, run_id, "autostart", "evil.desktop", bad))
    recs.append(record(root, run_id, "pong", "secret.onnx", "runs/ok-run/games/pong/models/secret.onnx"))
    recs.append(record(root, run_id, "autostart", "huge.onnx", evil, size=10 ** 300))
    recs.append(record(root, run_id, "autostart", "neg.onnx", evil, size=-1))
    recs.append(record(root, run_id, "autostart", "step.onnx", evil, step="1"))
    recs.append(record(root, run_id, "autostart", "sha.onnx", evil, sha256="../../etc"))
    recs.append("not an object")
    return {"models": recs}


def runs():
    rows = [{"run_id": "ok-run", "plan_name": "hostile", "state": "running", "started_ts": 1e308, "supervisor_alive": True}]
    for bad in ESCAPES:
        rows.append({"run_id": bad, "plan_name": bad, "state": "running", "started_ts": 1.0, "supervisor_alive": True})
    return {"runs": rows}


def attach(run_id):
    seq = 0

    def ev(type_, **fields):
        nonlocal seq
        seq += 1
        line = {"v": 1, "type": type_, "ts": time.time(), "run": run_id, "seq": seq}
        line.update(fields)
        out(line)

    ev("run_started", plan_name="hostile", slots=2, games=["autostart"], resumed=False)
    for bad in ESCAPES:
        ev("game_started", game=bad, pid=1, attempt=1, resumed_from_checkpoint=False)
        ev("model_exported", game="autostart", file=bad, sha256="0" * 64, size=1, global_step=1)
        ev("checkpoint", game=bad, file="ckpt-1.pt", global_step=1)
    ev("progress", game="autostart", episodes=10 ** 300, target_episodes=0, mean_return=None,
       global_step=-5, sps=None, episodes_per_hour=None)
    ev("game_started", game="autostart", pid=1, attempt=1, resumed_from_checkpoint=False)
    out({"v": 1, "type": "game_failed", "ts": 1, "run": "ok-2", "seq": seq + 1, "game": "autostart", "cause": "crash", "detail": "another run's event"})
    ev("model_exported", game="autostart", file="evil.desktop", sha256="0" * 64, size=1, global_step=1)
    sys.stdout.write("not json at all\n")
    sys.stdout.write(json.dumps({"v": 1, "type": "heartbeat", "ts": 1, "run": run_id, "seq": 2 ** 60}) + "\n")
    sys.stdout.write("{" + "x" * 2_000_000 + "\n")
    sys.stdout.flush()
    while True:
        time.sleep(1)
        out({"v": 1, "type": "heartbeat", "ts": time.time(), "run": run_id, "seq": seq, "transient": True})


def main():
    argv = sys.argv[1:]
    if argv[:2] == ["-m", "gantry_remote"]:
        argv = argv[2:]
    command = argv[0] if argv else ""
    root = arg(argv, "--root") or "."
    os.makedirs(root, exist_ok=True)
    plant(root)
    run_id = arg(argv, "--run")
    if command == "runs":
        out(runs())
    elif command == "models":
        out(models(root, run_id))
    elif command == "attach":
        attach(run_id)
    elif command == "stop":
        # An answer far larger than anything Gantry writes: the desktop must not hold it all.
        chunk = "x" * (1 << 20)
        for _ in range(100):
            sys.stdout.write(chunk)
        out({"run_id": "ok-run", "state": "stopped", "supervisor_alive": False})
    elif command in ("pause", "resume", "set-slots"):
        out({"run_id": "../../x/escape", "state": "-rf", "request": command, "supervisor_alive": True})
    elif command == "start":
        out({"run_id": "../../x/escape", "pid": 1, "resumed": False})
    else:
        out({"error": {"code": "unknown", "message": "this host does not do %s" % command}})
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
