"""Plan files: validation with messages a user can act on, queue order, trainer command lines."""
import json
import math
import os
import re
import sys
from typing import Any, Dict, List, Optional, TypedDict, Union

from . import budget, restart_rules
from .paths import UserError, package_parent, venv_python

BACKENDS = ("envpool", "ale", "builtin")
BUILTIN_GAMES = ("breakout", "freeway", "space_invaders", "seaquest", "asterix")
DEFAULT_RESTART = {"max_restarts": 5, "backoff_s": [10, 30, 90, 300]}
MAX_GAMES = 256
# Game names become directory names and trainer arguments: one path segment, never a flag.
_GAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")
_ARG_RE = re.compile(r"[A-Za-z0-9_]{1,64}")
# Flags the supervisor sets itself; a plan's trainer_args may not override (or negate) them.
SUPERVISOR_FLAGS = ("run_dir", "game", "backend", "target_episodes", "resume")
_OWNED_ARGS = frozenset(SUPERVISOR_FLAGS + tuple("no_" + f for f in SUPERVISOR_FLAGS))
# Tests run the fake trainer through this; the launch API and plan files cannot choose the program.
TRAINER_COMMAND_ENV = "GANTRY_TRAINER_COMMAND"


TrainerArg = Union[str, int, float, bool, None]


class _PlanGameOptional(TypedDict, total=False):
    est_hours: float
    env: str                        # the environment when it differs from the game's name (a second seed)


class PlanGame(_PlanGameOptional):
    game: str
    backend: Optional[str]          # None for an Atari game until `start` chooses it (launch_backends)
    target_episodes: int
    trainer_args: Dict[str, TrainerArg]


class RestartPolicy(TypedDict):
    max_restarts: int
    backoff_s: List[float]


class _PlanScheduler(TypedDict, total=False):
    scheduler: Dict[str, Any]       # absent: the local supervisor; {"kind": "slurm", …}: slurm_batch.py


class Plan(_PlanScheduler):
    """A validated plan (validate_plan fills in the defaults), as stored in plan.json."""
    name: str
    slots: int
    games: List[PlanGame]
    restart: RestartPolicy
    heartbeat_timeout_s: float
    gpu_sample_s: float
    gpus: Union[str, List[int]]     # "all" or GPU indices
    mps: str                        # "auto" | "off"
    budget: Optional[Dict[str, Any]]  # budget.py: limit, unit, price_per_hour, on_limit; None: no budget
    restart_rules: Dict[str, Dict[str, Any]]  # cause -> rule (restart_rules.py), every cause filled in


def _bad(message: str) -> UserError:
    return UserError("bad_plan", message + " Fix the plan file and start again.")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    """A finite JSON number (json.loads accepts NaN and Infinity)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def load_plan_file(path: str) -> Plan:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise UserError("plan_not_found", "Cannot read plan file %s: %s. Check the path." % (path, e.strerror)) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise _bad("Plan file %s is not valid JSON (%s)." % (path, e)) from None
    try:
        return validate_plan(data)
    except UserError as e:
        raise UserError(e.code, "Plan file %s: %s" % (path, e.message)) from None


def _validate_game(index: int, entry: Any) -> PlanGame:
    where = "games[%d]" % index
    if not isinstance(entry, dict):
        raise _bad("%s must be an object like {\"game\": \"Pong\", \"backend\": \"envpool\", \"target_episodes\": 3000}." % where)
    game = entry.get("game")
    if not isinstance(game, str) or not _GAME_RE.fullmatch(game):
        raise _bad("%s.game is missing or invalid: use 1-64 letters, digits, '_' or '-', not starting with '-'." % where)
    where = "game %s" % game
    backend = entry.get("backend")  # left out: an Atari game whose backend is chosen at launch
    if backend is not None and backend not in BACKENDS:
        raise _bad("%s: backend %r is unknown; use one of %s, or leave it out for an Atari game." % (
            where, backend, ", ".join(BACKENDS)))
    env = entry.get("env", game)
    if not isinstance(env, str) or not _GAME_RE.fullmatch(env):
        raise _bad("%s: env must be a game name like \"breakout\" (1-64 letters, digits, '_' or '-')." % where)
    if backend == "builtin" and env not in BUILTIN_GAMES:
        raise _bad("%s: the builtin backend has only %s." % (where, ", ".join(BUILTIN_GAMES)))
    target = entry.get("target_episodes")
    if not _is_int(target) or target <= 0:
        raise _bad("%s: target_episodes must be a positive whole number (got %r)." % (where, target))
    out: PlanGame = {"game": game, "backend": backend, "target_episodes": target, "trainer_args": {}}
    if env != game:  # the same environment twice in a plan (another seed, other settings)
        out["env"] = env
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
        if not isinstance(key, str) or not _ARG_RE.fullmatch(key):
            raise _bad("%s: trainer_args key %r is invalid; use letters, digits and '_'." % (where, key))
        if key in _OWNED_ARGS:
            raise _bad("%s: trainer_args.%s is set by the supervisor (%s); remove it from trainer_args." % (
                where, key, ", ".join(SUPERVISOR_FLAGS)))
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise _bad("%s: trainer_args.%s must be a string, number, true/false or null." % (where, key))
        if isinstance(value, float) and not math.isfinite(value):
            raise _bad("%s: trainer_args.%s must be a finite number (got %r)." % (where, key, value))
    out["trainer_args"] = dict(args)
    return out


def validate_plan(data: Any) -> Plan:
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
    if len(games_in) > MAX_GAMES:
        raise _bad("The plan lists %d games; a plan may have at most %d. Split it into several runs." % (
            len(games_in), MAX_GAMES))
    if "trainer_command" in data:
        raise _bad("\"trainer_command\" is not a plan field: the host decides which trainer program runs.")
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
    seconds: Dict[str, float] = {}
    for key, default in (("heartbeat_timeout_s", 300), ("gpu_sample_s", 10)):
        value = data.get(key, default)
        if not _is_number(value) or value <= 0:
            raise _bad("\"%s\" must be a number of seconds > 0 (got %r)." % (key, value))
        seconds[key] = value
    gpus = _validate_gpus(data.get("gpus", "all"))
    mps = data.get("mps", "auto")
    if mps not in ("auto", "off"):
        raise _bad("\"mps\" must be \"auto\" (share each GPU through CUDA MPS where the host allows) or \"off\" (got %r)." % (mps,))
    plan: Plan = {
        "name": name,
        "slots": slots,
        "games": games,
        "restart": {"max_restarts": max_restarts, "backoff_s": list(backoff)},
        "heartbeat_timeout_s": seconds["heartbeat_timeout_s"],
        "gpu_sample_s": seconds["gpu_sample_s"],
        "gpus": gpus,
        "mps": mps,
        "restart_rules": restart_rules.validate(data.get("restart_rules")),
    }
    plan_budget = budget.validate(data.get("budget"))
    if plan_budget is not None:  # the supervisor enforces it, or on SLURM `sync` (slurm_budget.py)
        plan["budget"] = plan_budget
    if data.get("scheduler") is not None:
        from .slurm_batch import validate_options  # the scheduler seam: local (default) or slurm
        plan["scheduler"] = validate_options(data["scheduler"])
    return plan


def _validate_gpus(gpus: Any) -> Union[str, List[int]]:
    """"all" (every GPU the host has) or a list of distinct GPU indices (`slots` trainers on each)."""
    if gpus == "all":
        return gpus
    if (not isinstance(gpus, list) or not gpus or len(gpus) > 64
            or not all(_is_int(i) and 0 <= i < 64 for i in gpus) or len(set(gpus)) != len(gpus)):
        raise _bad("\"gpus\" must be \"all\" or a list of distinct GPU indices like [0, 1] (got %r)." % (gpus,))
    return list(gpus)


def queue_order(plan: Plan) -> List[str]:
    """Longest estimated game first, so the long tail does not start last."""
    def length(g: PlanGame) -> float:
        return float(g["est_hours"]) if "est_hours" in g else float(g["target_episodes"])

    indexed = list(enumerate(plan["games"]))
    # Games with an estimate are compared in hours, those without by episodes; keep them apart
    # (estimated ones first) so the two units are never compared with each other.
    indexed.sort(key=lambda ig: (0 if "est_hours" in ig[1] else 1, -length(ig[1]), ig[0]))
    return [g["game"] for _, g in indexed]


def trainer_flags(args: Dict[str, TrainerArg]) -> List[str]:
    flags: List[str] = []
    for key, value in args.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is False or value is None:
            continue
        else:
            # One token: a value such as "--resume" stays the value, never a flag of its own.
            flags.append("%s=%s" % (flag, value))
    return flags


def trainer_command(root: str) -> List[str]:
    """The trainer program: gantry's own, or the argv prefix in $GANTRY_TRAINER_COMMAND (a JSON
    list of strings; tests use it to run the fake trainer)."""
    raw = os.environ.get(TRAINER_COMMAND_ENV)
    if not raw:
        return [venv_python(root) or sys.executable, "-m", "gantry_remote", "train"]
    try:
        command = json.loads(raw)
    except ValueError:
        command = None
    if not isinstance(command, list) or not command or not all(isinstance(c, str) and c for c in command):
        raise UserError("bad_environment", "%s must be a JSON list of non-empty strings (got %r). Fix or unset it." % (
            TRAINER_COMMAND_ENV, raw))
    return command


def trainer_argv(command: List[str], game: PlanGame, run_dir_for_game: str, resume: bool,
                 overrides: Optional[Dict[str, TrainerArg]] = None) -> List[str]:
    """command: trainer_command(root), checked once when the supervisor starts. overrides: what
    restart rules changed for this game (over the plan's trainer_args)."""
    if game["backend"] is None:  # start resolves every backend before it writes plan.json
        raise UserError("bad_plan", "Game %s has no backend in the run's plan.json; start the run with "
                        "`start --plan` (it chooses the Atari backend) rather than editing plan.json." % game["game"])
    argv = list(command) + [
        "--game", game.get("env", game["game"]),
        "--backend", game["backend"],
        "--run-dir", run_dir_for_game,
        "--target-episodes", str(game["target_episodes"]),
    ]
    if resume:
        argv.append("--resume")
    return argv + trainer_flags(dict(game.get("trainer_args", {}), **(overrides or {})))


def trainer_env(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ if base is None else base)
    parent = package_parent()
    existing = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = parent + (os.pathsep + existing if existing else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def game_by_name(plan: Plan, name: str) -> Optional[PlanGame]:
    for g in plan["games"]:
        if g["game"] == name:
            return g
    return None
