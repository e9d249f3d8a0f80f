"""ONNX export of the policy, with a probe pair and a sha256 manifest.

`models/<game>-<global_step>.onnx` takes a float32 observation batch and returns action logits.
Beside it, `<model>.probe.json` holds one real observation and the torch logits for it, so any
consumer (the desktop's onnxruntime-node check, a user's script) can prove the file computes
what the trained network computes. `models/manifest.json` lists each model with the sha256 of
both files; an entry is added only after both files are fully written.
"""
import copy
import io
import json
import os
import warnings
from typing import Any, Dict, Optional, Sequence

import torch

from . import __version__, atomic, manifests
from .digest import sha256_bytes
from .eval_recording import SUFFIX as EPISODE_SUFFIX
from .nets import ActorCritic, PolicyLogits

KEY = "models"
OPSET = 17
INPUT_NAME = "obs"
OUTPUT_NAME = "logits"
KEEP = 3


def onnx_bytes(agent: ActorCritic, example_obs: torch.Tensor, metadata: Dict[str, str]) -> bytes:
    """Serialise the policy head (batch dimension dynamic) and attach `metadata` as metadata_props."""
    import onnx

    policy = PolicyLogits(copy.deepcopy(agent).float().cpu()).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of dynamo, which needs onnxscript;
        # this tiny static network exports identically with the older path and no extra package.
        warnings.simplefilter("ignore")
        kwargs = dict(
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET,
        )
        try:
            torch.onnx.export(policy, (example_obs.float().cpu(),), buffer, dynamo=False, **kwargs)
        except TypeError:  # torch < 2.5 has no `dynamo` argument
            torch.onnx.export(policy, (example_obs.float().cpu(),), buffer, **kwargs)
    model = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(model, {k: str(v) for k, v in metadata.items()})
    onnx.checker.check_model(model)
    return model.SerializeToString()


def export_policy(
    models_dir: str,
    agent: ActorCritic,
    observation: torch.Tensor,
    game: str,
    backend: str,
    action_names: Sequence[str],
    global_step: int,
    episodes: int,
    mean_return: Optional[float],
    episode: Optional[bytes] = None,
) -> Dict[str, Any]:
    """Export the policy, its probe and a manifest entry; returns the entry.

    `observation` is one real observation (shape (C,H,W) or (1,C,H,W)) used both to trace the
    graph and as the probe input. `episode`: the model's evaluation recording
    (eval_recording.py), written as `<model>.episode.gz` before the entry that names it.
    """
    obs = observation.detach().float().cpu()
    if obs.dim() == 3:
        obs = obs.unsqueeze(0)
    obs = obs[:1].contiguous()
    metadata = {
        "game": game,
        "backend": backend,
        "obs_shape": json.dumps(list(obs.shape[1:])),
        "action_names": json.dumps(list(action_names)),
        "global_step": str(int(global_step)),
        "mean_return": json.dumps(mean_return),
        "gantry_version": __version__,
    }
    model_data = onnx_bytes(agent, obs, metadata)
    with torch.no_grad():
        logits = PolicyLogits(copy.deepcopy(agent).float().cpu()).eval()(obs)
    probe = {
        "input_name": INPUT_NAME,
        "input_shape": list(obs.shape),
        "input": [float(x) for x in obs.flatten().tolist()],
        "output_name": OUTPUT_NAME,
        "output": [float(x) for x in logits.flatten().tolist()],
    }
    probe_data = (json.dumps(probe) + "\n").encode()

    name = "%s-%d.onnx" % (game.lower(), global_step)
    probe_name = name + ".probe.json"
    atomic.write_bytes(os.path.join(models_dir, name), model_data)
    atomic.write_bytes(os.path.join(models_dir, probe_name), probe_data)
    extra: Dict[str, Any] = {}
    if episode is not None:
        extra = {"episode": name + EPISODE_SUFFIX, "episode_sha256": sha256_bytes(episode)}
        atomic.write_bytes(os.path.join(models_dir, extra["episode"]), episode)
    entry = manifests.entry(name, model_data, global_step, episodes, mean_return=mean_return, probe=probe_name,
                            probe_sha256=sha256_bytes(probe_data), **extra)
    # A damaged manifest starts over: the files it named are still there for the user.
    entries = [e for e in manifests.read(models_dir, KEY) or [] if e["file"] != name] + [entry]
    kept, dropped = entries[-KEEP:], entries[:-KEEP]
    manifests.write(models_dir, KEY, kept)
    manifests.remove_files(models_dir, [n for e in dropped for n in (e["file"], e.get("probe"), e.get("episode"))
                                        if isinstance(n, str)])
    return entry
