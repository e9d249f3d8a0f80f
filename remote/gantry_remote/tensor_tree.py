"""Nested dicts (and lists) of tensors: env states, snapshots, checkpoints."""
from typing import Any, Dict, Optional, Union

import torch


def clone_tree(tree: Any, device: Optional[Union[str, torch.device]] = None) -> Any:
    """Deep copy with every tensor detached and copied (to `device` when given, e.g. "cpu" for a
    checkpoint; on its own device otherwise, e.g. a graph's static state). Other leaves are kept."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().clone() if device is None else tree.detach().to(device, copy=True)
    if isinstance(tree, dict):
        return {k: clone_tree(v, device) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(clone_tree(v, device) for v in tree)
    return tree


def copy_tree(dst: Dict, src: Dict) -> None:
    """Copy `src`'s tensors into the same-shaped tensors of `dst`, in place."""
    for key, value in src.items():
        if isinstance(value, dict):
            copy_tree(dst[key], value)
        else:
            dst[key].copy_(value)


def first_non_finite(tree: Any, path: str = "") -> Optional[str]:
    """The path of the first floating tensor holding NaN or inf (e.g. "agent.critic.weight"), or None."""
    if isinstance(tree, torch.Tensor):
        if tree.is_floating_point() and not bool(torch.isfinite(tree).all()):
            return path or "tensor"
        return None
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, (list, tuple)) else ()
    for key, value in items:
        found = first_non_finite(value, "%s.%s" % (path, key) if path else str(key))
        if found:
            return found
    return None
