"""Training checkpoints: torch state in the crash-safe checkpoint files of ckpt_store.

`ckpt/ckpt-<global_step>.pt` holds everything a resumed run needs (model, optimizer, counters,
environment state, RNG states). Files, sidecars, the manifest and recovery from a kill or a
damaged manifest are ckpt_store's job; this module only turns state into bytes and back, always
loading with weights_only=True (a checkpoint is data, never code).
"""
import io
from typing import Any, Dict, Optional, Tuple

import torch

from . import ckpt_store
from .tensor_tree import first_non_finite


def _load(data: bytes) -> Dict[str, Any]:
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def save_checkpoint(ckpt_dir: str, state: Dict[str, Any], global_step: int, episodes: int) -> Dict[str, Any]:
    """Write `state` as ckpt-<global_step>.pt; returns its manifest entry.

    Refuses (FloatingPointError) weights or optimizer moments holding NaN or inf: the newest
    checkpoint must stay one a diverged run can restart from (restart rule "nan": resume from it
    with a lower learning rate)."""
    bad = first_non_finite({k: state[k] for k in ("agent", "optimizer") if k in state})
    if bad:
        raise FloatingPointError("non-finite values in %s at step %d; checkpoint not written, the previous one is kept"
                                 % (bad, global_step))
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return ckpt_store.save(ckpt_dir, buffer.getvalue(), global_step, episodes)


def prepare_checkpoints(ckpt_dir: str, log=print) -> None:
    """At trainer start: clear what a kill mid-checkpoint left and repair a damaged manifest."""
    ckpt_store.recover(ckpt_dir, _load, log)  # the state records global_step and episodes


def load_latest_checkpoint(ckpt_dir: str, log=print) -> Optional[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """The newest checkpoint whose bytes match the manifest's sha256, as (state, entry), or None."""
    return ckpt_store.load_latest(ckpt_dir, _load, log)
