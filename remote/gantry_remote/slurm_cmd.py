"""Running SLURM's client commands (sbatch, squeue, scontrol, scancel, sacct, sinfo) with a time
limit and errors that say what to do."""
import subprocess
from typing import List, Optional

from .paths import UserError

TIMEOUT_S = 30.0


def run(argv: List[str], check: bool = True, timeout: float = TIMEOUT_S) -> "subprocess.CompletedProcess[str]":
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise UserError("slurm_missing", "%s is not installed or not on PATH on this host. Run Gantry's SLURM "
                        "commands on the cluster's login node, where SLURM's client tools are." % argv[0]) from None
    except subprocess.TimeoutExpired:
        raise UserError("slurm_timeout", "`%s` did not answer within %.0f s: slurmctld may be down or overloaded. "
                        "Try again in a minute; `sinfo` shows whether the controller answers." % (" ".join(argv), timeout)) from None
    if check and result.returncode != 0:
        raise UserError("slurm_error", "`%s` failed (exit %d): %s" % (
            " ".join(argv), result.returncode, (result.stderr or result.stdout).strip()[:600]))
    return result


def probe(argv: List[str], timeout: float = 20) -> "tuple[int, str]":
    """(exit code, output) of a command the doctor reads, never raising: 127 when it is missing, 124
    when it does not answer in time; the output is stdout on success, else what it said on stderr."""
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return 127, "%s: not found" % argv[0]
    except subprocess.TimeoutExpired:
        return 124, "%s did not answer within %.0f s" % (argv[0], timeout)
    return proc.returncode, (proc.stdout if proc.returncode == 0 else (proc.stderr or proc.stdout)).strip()


def output(argv: List[str]) -> str:
    return run(argv).stdout


def accounting_enabled() -> Optional[bool]:
    """Whether sacct can answer (AccountingStorageType is not none); None if unknown."""
    result = run(["scontrol", "show", "config"], check=False)
    if result.returncode != 0:
        return None
    for line in result.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "AccountingStorageType":
            return value.strip() not in ("accounting_storage/none", "(null)", "")
    return None
