"""The Atari backend is chosen at launch, from what this host's trainer venv can import.

A plan names games and targets; an Atari game may leave out "backend". `start` fills it in (the
`--atari-backend` asked for, else ale-py, else EnvPool), refuses a backend the host lacks before
anything starts, and writes the resolved plan, with each Atari game's sticky-action probability
made explicit, as the run's plan.json.
"""
import copy
import json
import subprocess
from typing import Any, Dict, List, Optional

from .backends import STICKY_DEFAULT
from .paths import UserError

ATARI_BACKENDS = ("ale", "envpool")  # in order of preference when the launch does not ask for one
# Installed-package facts only, no imports: `start` must return in about a second (doctor imports them).
_PROBE = r"""
import importlib.metadata, importlib.util, json, re
def version(dist):
    try:
        return tuple(int(x) for x in re.findall(r"[0-9]+", importlib.metadata.version(dist))[:3])
    except Exception:
        return None
found = []
if (version("ale-py") or ()) >= (0, 12, 1) and importlib.util.find_spec("gymnasium"):
    found.append("ale")  # the C++ vector env; 0.12.0 was yanked
if importlib.util.find_spec("envpool"):
    found.append("envpool")
print(json.dumps(found + ["builtin"]))
"""
INSTALL_HINT = {
    "ale": "run the host set-up again (setup.sh installs ale-py), or `pip install 'ale-py>=0.12.1' gymnasium` in the venv",
    "envpool": "run the host set-up with --envpool (EnvPool has wheels for Linux x86_64 CPython <= 3.11 only), "
               "or launch with the ale backend",
}


def host_backends(python: str, timeout: float = 120) -> List[str]:
    """The backends installed for `python` (the trainer's interpreter)."""
    try:
        done = subprocess.run([python, "-c", _PROBE], stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        found = json.loads(done.stdout.decode().strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as e:
        raise UserError("backend_check_failed", "Could not check which Atari backends %s can import (%s). "
                        "Run `doctor --json` to see what is wrong with the trainer's Python." % (python, e)) from e
    return [b for b in found if isinstance(b, str)]


def needs_backend_check(plan: Dict[str, Any], requested: Optional[str]) -> bool:
    """Only Atari games (or an explicit --atari-backend) need to ask the trainer's Python; a plan of
    built-in games never waits on that probe (nor fails on a trainer program that is not Python)."""
    return requested is not None or any(g.get("backend") in (None,) + ATARI_BACKENDS for g in plan["games"])


def resolve_backends(plan: Dict[str, Any], available: List[str], requested: Optional[str]) -> Dict[str, Any]:
    """A copy of `plan` with every game's backend (and Atari sticky-action probability) set, or UserError."""
    if requested is not None and requested not in ATARI_BACKENDS:
        raise UserError("bad_arguments", "--atari-backend must be one of %s (got %r)." % (", ".join(ATARI_BACKENDS), requested))
    if requested is not None and requested not in available:
        raise _unavailable(requested, available, "was asked for")
    chosen = requested or next((b for b in ATARI_BACKENDS if b in available), None)
    out = copy.deepcopy(plan)
    for g in out["games"]:
        if g.get("backend") is None:
            if chosen is None:
                raise UserError("backend_unavailable", "Game %s needs an Atari backend and this host has none (it can run: "
                                "%s). To fix: %s." % (g["game"], ", ".join(available), INSTALL_HINT["ale"]))
            g["backend"] = chosen
        elif g["backend"] not in available:
            raise _unavailable(g["backend"], available, "is named by game %s" % g["game"])
        if g["backend"] in ATARI_BACKENDS:  # the two backends disagree on it (0.25 and 0): state it
            args = g.setdefault("trainer_args", {})
            if args.get("sticky_actions") is None:
                args["sticky_actions"] = STICKY_DEFAULT[g["backend"]]
    return out


def _unavailable(backend: str, available: List[str], why: str) -> UserError:
    return UserError("backend_unavailable", "The %s backend %s, but this host's trainer Python cannot import it "
                     "(it can run: %s). Nothing was started. To fix: %s." % (
                         backend, why, ", ".join(available), INSTALL_HINT.get(backend, "pick another backend")))
