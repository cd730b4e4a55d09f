"""Graph rewrites before execution, each exact up to float rounding (parity checks them):

- a convolution followed by a per-channel Mul and Add (an unfused batch norm) becomes one
  convolution with scaled filter and a bias;
- Relu -> Minimum(6) -> Maximum(0) (Keras' ReLU6 as exported) becomes one Relu6;
- relu(x) + a * (x - |x|) (PReLU as TFLite's converter spells it, e.g. MobileFaceNet) becomes
  Prelu(x, 2a): x - |x| is 2x below zero and 0 above, and doubling is exact in float.
"""
import numpy as np

from .graph import Node

_CONVS = {"Conv2D", "DepthwiseConv2dNative"}


def _consumers(nodes):
    out = {}
    for n in nodes:
        for dep, _ in n.inputs:
            out.setdefault(dep, []).append(n)
    return out


def _const_operand(node, skip, weights, by_name):
    others = [d for d, _ in node.inputs if d != skip]
    if len(others) != 1 or by_name[others[0]].op != "Const":
        return None
    return weights[others[0]]


def _per_channel(value, channels):
    if value is None or value.dtype != np.float32 or value.size != channels:
        return None
    if value.ndim > 1 and any(d != 1 for d in value.shape[:-1]):
        return None
    return value.reshape(channels)


def _make_identity(node, source):
    node.op, node.inputs, node.attr = "Identity", [(source, 0)], {}


def fold(graph):
    by_name = {n.name: n for n in graph.nodes}
    consumers = _consumers(graph.nodes)
    new_nodes = []
    for conv in list(graph.nodes):
        if conv.op not in _CONVS or conv.attr.get("fused_ops"):
            continue
        filt_name = conv.inputs[1][0]
        if by_name[filt_name].op != "Const":
            continue
        users = consumers.get(conv.name, [])
        if len(users) != 1 or users[0].op != "Mul":
            continue
        mul = users[0]
        filt = graph.weights[filt_name]
        channels = filt.shape[3] if conv.op == "Conv2D" else filt.shape[2] * filt.shape[3]
        scale = _per_channel(_const_operand(mul, conv.name, graph.weights, by_name), channels)
        adds = consumers.get(mul.name, [])
        if scale is None or len(adds) != 1 or adds[0].op not in ("Add", "AddV2"):
            continue
        add = adds[0]
        bias = _per_channel(_const_operand(add, mul.name, graph.weights, by_name), channels)
        if bias is None:
            continue
        if conv.op == "Conv2D":
            folded = filt * scale[None, None, None, :]
        else:
            folded = filt * scale.reshape(filt.shape[2], filt.shape[3])[None, None, :, :]
        f_name, b_name = conv.name + "/folded_filter", conv.name + "/folded_bias"
        graph.weights[f_name] = folded.astype(np.float32)
        graph.weights[b_name] = bias.astype(np.float32)
        new_nodes += [Node(f_name, "Const", []), Node(b_name, "Const", [])]
        conv.inputs = [conv.inputs[0], (f_name, 0), (b_name, 0)]
        conv.attr = dict(conv.attr, fused_ops=["BiasAdd"], num_args=1)
        conv.op = "_FusedConv2D" if conv.op == "Conv2D" else "FusedDepthwiseConv2dNative"
        _make_identity(mul, conv.name)
        _make_identity(add, mul.name)
    consumers = _consumers(graph.nodes)
    for relu in graph.nodes:
        if relu.op != "Relu":
            continue
        users = consumers.get(relu.name, [])
        if len(users) != 1 or users[0].op != "Minimum":
            continue
        mn = users[0]
        six = _const_operand(mn, relu.name, graph.weights, by_name)
        mxs = consumers.get(mn.name, [])
        if six is None or six.size != 1 or float(six.reshape(-1)[0]) != 6.0 or len(mxs) != 1 or mxs[0].op != "Maximum":
            continue
        mx = mxs[0]
        zero = _const_operand(mx, mn.name, graph.weights, by_name)
        if zero is None or zero.size != 1 or float(zero.reshape(-1)[0]) != 0.0:
            continue
        relu.op = "Relu6"
        _make_identity(mn, relu.name)
        _make_identity(mx, mn.name)
    new_nodes += _fold_prelu(graph)
    graph.nodes = new_nodes + graph.nodes
    return graph


def _sole_input(node, op, by_name, consumers):
    """node's input made by an `op` node that feeds nothing else, or None."""
    for dep, _ in node.inputs:
        if by_name[dep].op == op and len(consumers[dep]) == 1 and consumers[dep][0] is node:
            return by_name[dep]
    return None


def _fold_prelu(graph):
    """Each add(relu(x), mul(a, sub(x, abs(x)))) -> Prelu(x, 2a); returns the new Const nodes."""
    by_name = {n.name: n for n in graph.nodes}
    consumers = _consumers(graph.nodes)
    new_nodes = []
    for add in graph.nodes:
        if add.op not in ("Add", "AddV2"):
            continue
        relu = _sole_input(add, "Relu", by_name, consumers)
        mul = _sole_input(add, "Mul", by_name, consumers)
        sub = mul and _sole_input(mul, "Sub", by_name, consumers)
        absolute = sub and _sole_input(sub, "Abs", by_name, consumers)
        if not (relu and absolute):
            continue
        x = relu.inputs[0]
        alpha = _const_operand(mul, sub.name, graph.weights, by_name)
        if sub.inputs != [x, (absolute.name, 0)] or absolute.inputs != [x] or alpha is None:
            continue
        name = add.name + "/prelu_alpha"
        graph.weights[name] = (2 * alpha).astype(np.float32)
        new_nodes.append(Node(name, "Const", []))
        add.op, add.inputs, add.attr = "Prelu", [x, (name, 0)], {}
    return new_nodes
