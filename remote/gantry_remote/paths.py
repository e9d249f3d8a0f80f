"""Where things live under the root (see PROTOCOL.md "Layout"), and run-id rules."""
import os
import re
import secrets
import time
from typing import List, Optional

# One path segment: no separators, no "..", not hidden, not a flag. Always used with fullmatch
# ("$" would accept a trailing newline).
_RUN_ID_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


class UserError(Exception):
    """A problem the user can fix; the CLI prints it as {"error": {code, message}} and exits 2."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def default_root() -> str:
    return os.path.join(os.path.expanduser("~"), ".gantry")


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def validate_run_id(run_id: str) -> str:
    # Run ids become directory names, so anything that could escape runs/ is refused.
    if not _RUN_ID_RE.fullmatch(run_id) or ".." in run_id:
        raise UserError(
            "bad_run_id",
            "Run id %r is not allowed: use 1-128 letters, digits, '.', '_' or '-' "
            "(no '..', not starting with '.' or '-')." % run_id,
        )
    return run_id


def runs_dir(root: str) -> str:
    return os.path.join(root, "runs")


def run_dir(root: str, run_id: str) -> str:
    return os.path.join(runs_dir(root), run_id)


def game_dir(run_path: str, game: str) -> str:
    return os.path.join(run_path, "games", game)


def control_dir(run_path: str) -> str:
    return os.path.join(run_path, "control")


def venv_python(root: str) -> Optional[str]:
    candidate = os.path.join(root, "venv", "bin", "python")
    return candidate if os.access(candidate, os.X_OK) else None


def package_parent() -> str:
    """The directory that must be on PYTHONPATH for `import gantry_remote` to work."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def list_run_ids(root: str) -> List[str]:
    try:
        names = os.listdir(runs_dir(root))
    except FileNotFoundError:
        return []
    return [n for n in names if _RUN_ID_RE.fullmatch(n) and ".." not in n and os.path.isdir(run_dir(root, n))]
