#!/usr/bin/python3
"""Generates the small ONNX models the HTTP adapter's Open Inference Protocol tests use.

Run from anywhere with Debian's python3-onnx (the system Python):

    /usr/bin/python3 make_models.py

It writes, next to itself (opset 13, IR version 7, as modserv-onnx's fixtures):
  features.onnx  features FP32 [batch, 2] -> Mul 2 -> doubled FP32
  ids.onnx       input_ids INT64 [batch, seq] -> Add 1 -> ids_plus_one INT64
  mask.onnx      mask BOOL [batch, 2] -> Not -> not_mask BOOL
  text.onnx      text STRING [batch] -> Identity -> text_out STRING (OIP BYTES)
  all.onnx       the four above in one graph, for several tensors in one request
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = [helper.make_opsetid("", 13)]

PARTS = {
    "features": (
        [helper.make_node("Mul", ["features", "two"], ["doubled"])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor_value_info("doubled", TensorProto.FLOAT, ["batch", 2])],
        [numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")],
    ),
    "ids": (
        [helper.make_node("Add", ["input_ids", "one"], ["ids_plus_one"])],
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("ids_plus_one", TensorProto.INT64, ["batch", "seq"])],
        [numpy_helper.from_array(np.array(1, dtype=np.int64), "one")],
    ),
    "mask": (
        [helper.make_node("Not", ["mask"], ["not_mask"])],
        [helper.make_tensor_value_info("mask", TensorProto.BOOL, ["batch", 2])],
        [helper.make_tensor_value_info("not_mask", TensorProto.BOOL, ["batch", 2])],
        [],
    ),
    "text": (
        [helper.make_node("Identity", ["text"], ["text_out"])],
        [helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"])],
        [helper.make_tensor_value_info("text_out", TensorProto.STRING, ["batch"])],
        [],
    ),
}


def save(name, nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="modserv-tests")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name + ".onnx"))


if __name__ == "__main__":
    for name, (nodes, inputs, outputs, inits) in PARTS.items():
        save(name, nodes, inputs, outputs, inits)
    merged = [[], [], [], []]
    for part in PARTS.values():
        for i in range(4):
            merged[i] += part[i]
    save("all", *merged)
