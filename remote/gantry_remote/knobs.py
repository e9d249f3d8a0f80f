"""Tuning knobs read from the environment (PROTOCOL.md lists them): tests set them to run fast."""
import os


def env_float(name: str, default: float) -> float:
    """The number in environment variable `name`, or `default` when it is unset or not a number."""
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default
