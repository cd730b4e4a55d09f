"""Read a TF.js graph model (model.json + weight shards) into plain Python structures.

Only parsing lives here; executing the graph is `module.py`, the ops are `ops.py`.
"""
import base64
import json
import os
from dataclasses import dataclass, field

import numpy as np

_NP_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "int64": np.int64}


@dataclass
class Node:
    name: str
    op: str
    inputs: list  # (node name, output index) pairs, control inputs dropped
    attr: dict = field(default_factory=dict)


@dataclass
class Graph:
    nodes: list  # topologically ordered
    weights: dict  # name -> np.ndarray
    signature: dict


def _decode_attr(value):
    """TF.js stores attributes as tagged unions; keep the useful Python value."""
    if "list" in value:
        lst = value["list"]
        if "i" in lst:
            return [int(v) for v in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(v).decode() for v in lst["s"]]
        if "f" in lst:
            return [float(v) for v in lst["f"]]
        return []
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "type" in value:
        return value["type"]
    if "shape" in value:
        return value["shape"]
    return value


def _parse_input(ref):
    name, _, idx = ref.partition(":")
    return name, int(idx) if idx else 0


def _read_weights(manifest, model_dir):
    weights = {}
    for group in manifest:
        data = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = spec["shape"]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            if quant:
                qdtype = quant["dtype"]
                itemsize = {"uint8": 1, "uint16": 2, "float16": 2}[qdtype]
                raw = data[offset: offset + count * itemsize]
                offset += count * itemsize
                if qdtype == "float16":
                    arr = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
                else:
                    q = np.frombuffer(raw, dtype=np.uint8 if qdtype == "uint8" else np.uint16)
                    arr = (q.astype(np.float32) * quant["scale"] + quant["min"]).astype(np.float32)
                arr = arr.astype(_NP_DTYPES[spec["dtype"]])
            else:
                dtype = _NP_DTYPES[spec["dtype"]]
                nbytes = count * np.dtype(dtype).itemsize
                arr = np.frombuffer(data[offset: offset + nbytes], dtype=dtype).copy()
                offset += nbytes
            weights[spec["name"]] = arr.reshape(shape)
        if offset != len(data):
            raise ValueError(f"weight shards hold {len(data)} bytes, manifest describes {offset}")
    return weights


def _topological(nodes):
    by_name = {n.name: n for n in nodes}
    order, state = [], {}
    for root in nodes:
        stack = [(root.name, False)]
        while stack:
            name, done = stack.pop()
            if done:
                state[name] = 2
                order.append(by_name[name])
                continue
            if state.get(name):
                continue
            state[name] = 1
            stack.append((name, True))
            for dep, _ in by_name[name].inputs:
                if not state.get(dep):
                    stack.append((dep, False))
    return order


def load(json_path):
    """Parse `json_path` and its weight shards; returns a Graph."""
    with open(json_path) as f:
        model = json.load(f)
    nodes = []
    for raw in model["modelTopology"]["node"]:
        inputs = [_parse_input(i) for i in raw.get("input", []) if not i.startswith("^")]
        attr = {k: _decode_attr(v) for k, v in raw.get("attr", {}).items()}
        nodes.append(Node(raw["name"], raw["op"], inputs, attr))
    weights = _read_weights(model["weightsManifest"], os.path.dirname(json_path))
    signature = model.get("signature") or model.get("userDefinedMetadata", {}).get("signature", {})
    return Graph(_topological(nodes), weights, signature)
