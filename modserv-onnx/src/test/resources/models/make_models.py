#!/usr/bin/python3
"""Generates the small ONNX models the modserv-onnx tests use, and their reference outputs.

Run from anywhere with Debian's python3-onnx and python3-numpy (the system Python):

    /usr/bin/python3 make_models.py

It writes, next to itself:
  mlp.onnx        x FP32 [batch, 4] -> Gemm(4x8) -> Relu -> Gemm(8x3) -> y FP32 [batch, 3]
  mixed.onnx      s STRING [batch] -> Identity -> s_out; a, b INT64 [batch, 2] -> Add -> sum
  types.onnx      one Identity per element type ORT Java can build (in_<type> -> out_<type>)
  fixed.onnx      x FP32 [2, 3] (no batch dimension) -> Neg -> y
  transposed.onnx x FP32 [batch, 4] -> Transpose -> y, declared [batch, 4] though it is [4, batch]
  flattened.onnx  x FP32 [batch, 4] -> Reshape [-1] -> y FP32 [flat] (a size no input names)
  passthrough.onnx x FP32 [batch, 2] -> Neg -> y, and x itself as an output too
  references.json inputs and the outputs numpy computes for them, for the known-answer tests

The weights come from a seeded numpy generator and are stored in the models; the reference
outputs are computed here with numpy, independently of ONNX Runtime.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = [helper.make_opsetid("", 13)]


def save(model, name):
    model.ir_version = 7  # readable by every ONNX Runtime since 1.6
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name))


def mlp():
    rng = np.random.default_rng(20240401)
    w1 = rng.normal(0, 0.5, (4, 8)).astype(np.float32)
    b1 = rng.normal(0, 0.1, (8,)).astype(np.float32)
    w2 = rng.normal(0, 0.5, (8, 3)).astype(np.float32)
    b2 = rng.normal(0, 0.1, (3,)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]),
            helper.make_node("Relu", ["h"], ["hr"]),
            helper.make_node("Gemm", ["hr", "w2", "b2"], ["y"]),
        ],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")],
    )
    save(helper.make_model(graph, opset_imports=OPSET, producer_name="modserv-tests"), "mlp.onnx")
    x = np.array([[0.5, -1.0, 2.0, 0.25],
                  [1.5, 0.0, -0.5, 3.0],
                  [-2.0, 1.0, 0.75, -0.125]], dtype=np.float32)
    y = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    return {"x": x.flatten().tolist(), "x_shape": list(x.shape),
            "y": y.astype(np.float32).flatten().tolist(), "y_shape": list(y.shape)}


def mixed():
    graph = helper.make_graph(
        [
            helper.make_node("Identity", ["s"], ["s_out"]),
            helper.make_node("Add", ["a", "b"], ["sum"]),
        ],
        "mixed",
        [helper.make_tensor_value_info("s", TensorProto.STRING, ["batch"]),
         helper.make_tensor_value_info("a", TensorProto.INT64, ["batch", 2]),
         helper.make_tensor_value_info("b", TensorProto.INT64, ["batch", 2])],
        [helper.make_tensor_value_info("s_out", TensorProto.STRING, ["batch"]),
         helper.make_tensor_value_info("sum", TensorProto.INT64, ["batch", 2])],
    )
    save(helper.make_model(graph, opset_imports=OPSET, producer_name="modserv-tests"), "mixed.onnx")
    a = np.array([[1, 2], [3, 4]], dtype=np.int64)
    b = np.array([[10, 20], [2**40, -7]], dtype=np.int64)
    return {"s": ["héllo", ""], "a": a.flatten().tolist(), "b": b.flatten().tolist(),
            "sum": (a + b).flatten().tolist(), "shape": [2, 2]}


TYPES = {
    "fp32": TensorProto.FLOAT, "fp64": TensorProto.DOUBLE, "fp16": TensorProto.FLOAT16,
    "bf16": TensorProto.BFLOAT16, "int8": TensorProto.INT8, "int16": TensorProto.INT16,
    "int32": TensorProto.INT32, "int64": TensorProto.INT64, "uint8": TensorProto.UINT8,
    "bool": TensorProto.BOOL, "string": TensorProto.STRING,
}


def types():
    graph = helper.make_graph(
        [helper.make_node("Identity", ["in_" + t], ["out_" + t]) for t in TYPES],
        "types",
        [helper.make_tensor_value_info("in_" + t, code, ["batch", 2]) for t, code in TYPES.items()],
        [helper.make_tensor_value_info("out_" + t, code, ["batch", 2]) for t, code in TYPES.items()],
    )
    save(helper.make_model(graph, opset_imports=OPSET, producer_name="modserv-tests"), "types.onnx")


def fixed():
    graph = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["y"])],
        "fixed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    )
    save(helper.make_model(graph, opset_imports=OPSET, producer_name="modserv-tests"), "fixed.onnx")


def transposed():
    # A model whose declared output shape is wrong: ONNX Runtime loads it (a named dimension and a
    # number merge) and computes [4, batch]; the engine must not trust the declaration.
    graph = helper.make_graph(
        [helper.make_node("Transpose", ["x"], ["y"])],
        "transposed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
    )
    save(helper.make_model(graph, opset_imports=OPSET, producer_name="modserv-tests"),
         "transposed.onnx")


def flattened():
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "flat_shape"], ["y"])],
        "flattened",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["flat"])],
        [numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat_shape")],
    )
    save(helper.make_model(graph, opset_imports=OPSET, producer_name="modserv-tests"),
         "flattened.onnx")


def passthrough():
    # A graph output that is a graph input: ONNX Runtime answers with the input itself.
    graph = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["y"])],
        "passthrough",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2]),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])],
    )
    save(helper.make_model(graph, opset_imports=OPSET, producer_name="modserv-tests"),
         "passthrough.onnx")


if __name__ == "__main__":
    refs = {"mlp": mlp(), "mixed": mixed()}
    types()
    fixed()
    transposed()
    flattened()
    passthrough()
    with open(os.path.join(HERE, "references.json"), "w", encoding="utf-8") as f:
        json.dump(refs, f, indent=1, ensure_ascii=False)
        f.write("\n")
