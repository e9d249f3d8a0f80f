"""What the supervisor does about each cause of a trainer's end: the plan's "restart_rules".

A rule is {"action": ...} with the action's own settings:
  restart                        start it again from its last checkpoint (after the backoff)
  fewer_envs  factor, min_envs   the same with num_envs x factor (not below min_envs): out of memory
  lower_lr    factor, min_lr     the same with learning_rate x factor (not below min_lr): NaN loss;
                                 the trainer never checkpoints non-finite weights, so its last
                                 checkpoint is from before the NaN
  pause       pause the game and say why: restarting will not help (a CUDA/driver fault); under MPS
              every trainer on that GPU is paused with it
  fail        give up on the game at once
Every restart still counts against restart.max_restarts. The changes a rule makes are kept per game
in state.json ("overrides", over the plan's trainer_args) and journaled with game_restarting.
"""
import math
from typing import Any, Dict, List, Optional, Tuple

from .paths import UserError

# The causes the local supervisor classifies (failure.py; "frozen" from the metrics watchdog).
CAUSES = ("crash", "oom", "nan", "cuda", "signal", "frozen", "other")
ACTIONS = ("restart", "fewer_envs", "lower_lr", "pause", "fail")
_SETTINGS = {
    "restart": {},
    "fewer_envs": {"factor": 0.5, "min_envs": 8},
    "lower_lr": {"factor": 0.5, "min_lr": 1e-6},
    "pause": {},
    "fail": {},
}
DEFAULT_RULES: Dict[str, Dict[str, Any]] = {
    "crash": {"action": "restart"},
    "oom": {"action": "fewer_envs", "factor": 0.5, "min_envs": 8},
    "nan": {"action": "lower_lr", "factor": 0.5, "min_lr": 1e-6},
    "cuda": {"action": "pause"},
    "signal": {"action": "restart"},
    "frozen": {"action": "restart"},
    "other": {"action": "restart"},
}
# The trainer's defaults when neither the plan nor an earlier rule set the value (ppo.Args;
# test_restart_rules checks they agree with ppo.parse_args).
DEFAULT_NUM_ENVS = 256
DEFAULT_LEARNING_RATE = {"builtin": 5e-4, "envpool": 2.5e-4, "ale": 2.5e-4}

Rules = Dict[str, Dict[str, Any]]
Change = Dict[str, Any]  # {"arg", "from", "to"}


def _bad(message: str) -> UserError:
    return UserError("bad_plan", message + " Fix the plan file and start again.")


def validate(data: Any) -> Rules:
    """The plan's restart_rules over the defaults (every cause gets a rule), or UserError."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _bad("\"restart_rules\" must be an object like {\"oom\": {\"action\": \"fewer_envs\"}}.")
    rules: Rules = {cause: dict(rule) for cause, rule in DEFAULT_RULES.items()}
    for cause, rule in data.items():
        if cause not in CAUSES:
            raise _bad("restart_rules: %r is not a cause; use %s." % (cause, ", ".join(CAUSES)))
        if not isinstance(rule, dict) or rule.get("action") not in ACTIONS:
            raise _bad("restart_rules.%s needs an \"action\": one of %s." % (cause, ", ".join(ACTIONS)))
        action = rule["action"]
        settings = _SETTINGS[action]
        unknown = sorted(set(rule) - {"action"} - set(settings))
        if unknown:
            raise _bad("restart_rules.%s: %s takes %s (not %s)." % (
                cause, action, ", ".join(settings) or "no settings", ", ".join(unknown)))
        out: Dict[str, Any] = {"action": action}
        for key, default in settings.items():
            value = rule.get(key, default)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise _bad("restart_rules.%s.%s must be a number (got %r)." % (cause, key, value))
            if key == "factor" and not 0 < value < 1:
                raise _bad("restart_rules.%s.factor must be between 0 and 1, e.g. 0.5 (got %r)." % (cause, value))
            if key == "min_envs" and (not isinstance(value, int) or value < 1):
                raise _bad("restart_rules.%s.min_envs must be a whole number >= 1 (got %r)." % (cause, value))
            if key == "min_lr" and value <= 0:
                raise _bad("restart_rules.%s.min_lr must be > 0 (got %r)." % (cause, value))
            out[key] = value
        rules[cause] = out
    return rules


def rule_for(rules: Rules, cause: str) -> Dict[str, Any]:
    """A cause the rules do not name (a newer classifier) restarts, as before rules existed."""
    return rules.get(cause) or {"action": "restart"}


def _number(value: Any) -> Optional[float]:
    """A trainer_args value as a number (plans may write "64"), or None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def changes_for(rule: Dict[str, Any], args: Dict[str, Any], backend: str) -> Tuple[List[Change], str]:
    """What a restart rule changes in the trainer's args (args: the plan's trainer_args with the
    game's earlier overrides over them), and a note when the rule could not change anything."""
    action = rule["action"]
    if action == "fewer_envs":
        current = _number(args.get("num_envs", DEFAULT_NUM_ENVS))
        if current is None:
            return [], "num_envs %r is not a number; restarting unchanged" % (args.get("num_envs"),)
        current = int(current)
        target = max(int(rule["min_envs"]), int(current * rule["factor"]))
        if target >= current:
            return [], "num_envs is already at the floor (%d); restarting unchanged" % current
        return [{"arg": "num_envs", "from": current, "to": target}], ""
    if action == "lower_lr":
        current = _number(args.get("learning_rate", DEFAULT_LEARNING_RATE.get(backend, 2.5e-4)))
        if current is None:
            return [], "learning_rate %r is not a number; restarting unchanged" % (args.get("learning_rate"),)
        target = max(float(rule["min_lr"]), float("%.6g" % (current * rule["factor"])))
        if target >= current:
            return [], "learning_rate is already at the floor (%g); restarting unchanged" % current
        return [{"arg": "learning_rate", "from": current, "to": target}], ""
    return [], ""


def describe(changes: List[Change]) -> str:
    return ", ".join("%s %s -> %s" % (c["arg"], _short(c["from"]), _short(c["to"])) for c in changes)


def _short(value: Any) -> str:
    return "%g" % value if isinstance(value, float) else str(value)
