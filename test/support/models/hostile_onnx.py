"""Hostile ONNX models for the validation tests: small, valid files that a downloaded model could
be, but that never finish (a Loop with an astronomical trip count) or ask ONNX Runtime for far
more memory than a model should (ConstantOfShape of several GiB, run on the probe input).
Each comes with Gantry metadata and a matching probe, so validation reaches the inference step.

    python hostile_onnx.py OUT_DIR hang|memory
"""
import json
import os
import sys

import onnx
from onnx import TensorProto, helper


def gantry_model(graph, out_dir, name):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {"game": "hostile", "obs_shape": "[4]", "action_names": json.dumps(["a", "b", "c", "d"])}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    onnx.save(model, path)
    with open(path + ".probe.json", "w") as f:
        json.dump({"input_name": "obs", "input_shape": [1, 4], "input": [0.0, 1.0, 2.0, 3.0],
                   "output_name": "logits", "output": [0.0, 1.0, 2.0, 3.0]}, f)
    return path


def hang(out_dir):
    # logits = obs after 10^15 iterations of "+ 0": correct, and never finishes.
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["v_in", "zero"], ["v_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "cond", "obs"], ["logits"], body=body)],
        "hang",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("trips", TensorProto.INT64, [], [10 ** 15]),
         helper.make_tensor("cond", TensorProto.BOOL, [], [True])],
    )
    return gantry_model(graph, out_dir, "hang.onnx")


def memory(out_dir):
    # A [1, 2^30] float tensor (4 GiB) whose size comes from the input, so nothing is folded at
    # load: the allocation happens when the probe runs. logits = obs + sum of zeros.
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["obs"], ["s"], keepdims=0),
         helper.make_node("Mul", ["s", "zero"], ["z"]),
         helper.make_node("Add", ["z", "big_count"], ["n"]),
         helper.make_node("Cast", ["n"], ["n64"], to=TensorProto.INT64),
         helper.make_node("ConstantOfShape", ["n64"], ["big"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])),
         helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0),
         helper.make_node("Add", ["obs", "total"], ["logits"])],
        "memory",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]),
         helper.make_tensor("big_count", TensorProto.FLOAT, [1], [float(2 ** 30)])],
    )
    return gantry_model(graph, out_dir, "memory.onnx")


if __name__ == "__main__":
    out, kind = sys.argv[1], sys.argv[2]
    print({"hang": hang, "memory": memory}[kind](out))
