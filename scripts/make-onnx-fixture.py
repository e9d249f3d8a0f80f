"""Write a real Gantry ONNX model + probe (untrained policy, exported by the trainer's own
export code) into OUT_DIR, for tests.

Usage: python scripts/make-onnx-fixture.py OUT_DIR [--game G] [--tamper weights|metadata]
  --tamper weights   change one weight after export (the probe no longer matches: output drift)
  --tamper metadata  drop the metadata_props (no action names / obs shape)

Prints the manifest entry as JSON. Nothing is trained: the point is a file exactly like the
trainer's, with metadata and a probe pair computed by torch.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "remote"))

import torch  # noqa: E402

from gantry_remote.export import export_policy  # noqa: E402
from gantry_remote.nets import make_agent  # noqa: E402


def tamper(path: str, how: str) -> None:
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    if how == "weights":
        init = max(model.graph.initializer, key=lambda t: int(np.prod(t.dims)))
        values = numpy_helper.to_array(init).copy()
        values.flat[: values.size // 2] *= 3.0
        init.CopyFrom(numpy_helper.from_array(values, init.name))
    elif how == "metadata":
        del model.metadata_props[:]
    onnx.save(model, path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--game", default="breakout")
    parser.add_argument("--tamper", choices=["weights", "metadata"])
    args = parser.parse_args()
    out_dir, game = args.out_dir, args.game
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    obs = (torch.rand((4, 10, 10), generator=g) < 0.2).float()
    agent = make_agent((4, 10, 10), 3)
    entry = export_policy(out_dir, agent, obs, game, "builtin", ["noop", "left", "right"], 4096, 12, 1.5)
    if args.tamper:
        tamper(os.path.join(out_dir, entry["file"]), args.tamper)
    print(json.dumps(entry))


if __name__ == "__main__":
    main()
