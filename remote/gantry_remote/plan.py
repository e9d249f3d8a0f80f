"""Plan files: validation with messages a user can act on, queue order, trainer command lines."""
import json
import os
import re
import sys
from typing import Any, Dict, List, Optional

from .paths import UserError, package_parent, venv_python

BACKENDS = ("envpool", "ale", "builtin")
BUILTIN_GAMES = ("breakout", "freeway", "space_invaders", "seaquest", "asterix")
DEFAULT_RESTART = {"max_restarts": 5, "backoff_s": [10, 30, 90, 300]}
_GAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ARG_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def _bad(message: str) -> UserError:
    return UserError("bad_plan", message + " Fix the plan file and start again.")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def load_plan_file(path: str) -> Dict[str, Any]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise UserError("plan_not_found", "Cannot read plan file %s: %s. Check the path." % (path, e.strerror))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise _bad("Plan file %s is not valid JSON (%s)." % (path, e))
    return validate_plan(data)


def _validate_game(index: int, entry: Any) -> Dict[str, Any]:
    where = "games[%d]" % index
    if not isinstance(entry, dict):
        raise _bad("%s must be an object like {\"game\": \"Pong\", \"backend\": \"envpool\", \"target_episodes\": 3000}." % where)
    game = entry.get("game")
    if not isinstance(game, str) or not _GAME_RE.match(game):
        raise _bad("%s.game is missing or invalid: use 1-64 letters, digits, '_' or '-'." % where)
    where = "game %s" % game
    backend = entry.get("backend")
    if backend not in BACKENDS:
        raise _bad("%s: backend %r is unknown; use one of %s." % (where, backend, ", ".join(BACKENDS)))
    if backend == "builtin" and game not in BUILTIN_GAMES:
        raise _bad("%s: the builtin backend has only %s." % (where, ", ".join(BUILTIN_GAMES)))
    target = entry.get("target_episodes")
    if not _is_int(target) or target <= 0:
        raise _bad("%s: target_episodes must be a positive whole number (got %r)." % (where, target))
    out: Dict[str, Any] = {"game": game, "backend": backend, "target_episodes": target}
    if entry.get("est_hours") is not None:
        est = entry["est_hours"]
        if not _is_number(est) or est < 0:
            raise _bad("%s: est_hours must be a number >= 0 (got %r)." % (where, est))
        out["est_hours"] = est
    args = entry.get("trainer_args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise _bad("%s: trainer_args must be an object like {\"num_envs\": 64}." % where)
    for key, value in args.items():
        if not _ARG_RE.match(key):
            raise _bad("%s: trainer_args key %r is invalid; use letters, digits and '_'." % (where, key))
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise _bad("%s: trainer_args.%s must be a string, number, true/false or null." % (where, key))
    out["trainer_args"] = dict(args)
    return out


def validate_plan(data: Any) -> Dict[str, Any]:
    """Return a normalised copy (defaults filled in) or raise UserError naming the problem."""
    if not isinstance(data, dict):
        raise _bad("A plan must be a JSON object with \"name\" and \"games\".")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad("The plan needs a \"name\" (a non-empty string).")
    slots = data.get("slots", 6)
    if not _is_int(slots) or not 1 <= slots <= 256:
        raise _bad("\"slots\" must be a whole number from 1 to 256 (got %r)." % (slots,))
    games_in = data.get("games")
    if not isinstance(games_in, list) or not games_in:
        raise _bad("The plan needs a non-empty \"games\" list.")
    games = [_validate_game(i, g) for i, g in enumerate(games_in)]
    seen: Dict[str, str] = {}
    for g in games:
        # Compared case-insensitively: game dirs must not collide on case-insensitive disks.
        key = g["game"].lower()
        if key in seen:
            raise _bad("Game %s appears twice in the plan; each game may be listed once." % g["game"])
        seen[key] = g["game"]
    restart_in = data.get("restart", {})
    if restart_in is None:
        restart_in = {}
    if not isinstance(restart_in, dict):
        raise _bad("\"restart\" must be an object like {\"max_restarts\": 5, \"backoff_s\": [10, 30]}.")
    max_restarts = restart_in.get("max_restarts", DEFAULT_RESTART["max_restarts"])
    if not _is_int(max_restarts) or max_restarts < 0:
        raise _bad("restart.max_restarts must be a whole number >= 0 (got %r)." % (max_restarts,))
    backoff = restart_in.get("backoff_s", DEFAULT_RESTART["backoff_s"])
    if not isinstance(backoff, list) or not backoff or not all(_is_number(b) and b >= 0 for b in backoff):
        raise _bad("restart.backoff_s must be a non-empty list of seconds >= 0 (got %r)." % (backoff,))
    plan: Dict[str, Any] = {
        "name": name,
        "slots": slots,
        "games": games,
        "restart": {"max_restarts": max_restarts, "backoff_s": list(backoff)},
    }
    for key, default in (("heartbeat_timeout_s", 300), ("gpu_sample_s", 10)):
        value = data.get(key, default)
        if not _is_number(value) or value <= 0:
            raise _bad("\"%s\" must be a number of seconds > 0 (got %r)." % (key, value))
        plan[key] = value
    command = data.get("trainer_command")
    if command is not None:
        if not isinstance(command, list) or not command or not all(isinstance(c, str) and c for c in command):
            raise _bad("\"trainer_command\" must be a non-empty list of strings (an argv prefix).")
        plan["trainer_command"] = list(command)
    return plan


def queue_order(plan: Dict[str, Any]) -> List[str]:
    """Longest estimated game first, so the long tail does not start last."""
    def length(g: Dict[str, Any]) -> float:
        return float(g["est_hours"]) if "est_hours" in g else float(g["target_episodes"])

    indexed = list(enumerate(plan["games"]))
    # Games with an estimate are compared in hours, those without by episodes; keep them apart
    # (estimated ones first) so the two units are never compared with each other.
    indexed.sort(key=lambda ig: (0 if "est_hours" in ig[1] else 1, -length(ig[1]), ig[0]))
    return [g["game"] for _, g in indexed]


def trainer_flags(args: Dict[str, Any]) -> List[str]:
    flags: List[str] = []
    for key, value in args.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is False or value is None:
            continue
        else:
            flags.extend([flag, str(value)])
    return flags


def trainer_argv(plan: Dict[str, Any], game: Dict[str, Any], run_dir_for_game: str, root: str, resume: bool) -> List[str]:
    prefix: Optional[List[str]] = plan.get("trainer_command")
    if not prefix:
        prefix = [venv_python(root) or sys.executable, "-m", "gantry_remote", "train"]
    argv = list(prefix) + [
        "--game", game["game"],
        "--backend", game["backend"],
        "--run-dir", run_dir_for_game,
        "--target-episodes", str(game["target_episodes"]),
    ]
    if resume:
        argv.append("--resume")
    return argv + trainer_flags(game.get("trainer_args", {}))


def trainer_env(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ if base is None else base)
    parent = package_parent()
    existing = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = parent + (os.pathsep + existing if existing else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def game_by_name(plan: Dict[str, Any], name: str) -> Optional[Dict[str, Any]]:
    for g in plan["games"]:
        if g["game"] == name:
            return g
    return None
