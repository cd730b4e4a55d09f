"""Read a float TFLite flatbuffer into graph.py's structures, each TFLite op as the TF op it
was converted from, so that module.py runs it like a TF.js graph (NHWC in, NCHW inside).

The flatbuffer is read with `flatbuffers` (Debian python3-flatbuffers) and the field slots
of TFLite's schema.fbs, without TensorFlow. Only what a float MobileFaceNet uses is read:
CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, RELU, ABS, RESHAPE; anything else, or a
quantised tensor, is an error. The converter's PReLU spelling, relu(x) + a * (x - |x|),
becomes one Prelu in fold.py.
"""
import numpy as np
from flatbuffers import encode
from flatbuffers import number_types as N
from flatbuffers.table import Table

from .graph import Graph, Node

# schema.fbs field slots
MODEL_OPERATOR_CODES, MODEL_SUBGRAPHS, MODEL_BUFFERS = 1, 2, 4
OPCODE_DEPRECATED_BUILTIN, OPCODE_BUILTIN = 0, 3
SUBGRAPH_TENSORS, SUBGRAPH_INPUTS, SUBGRAPH_OUTPUTS, SUBGRAPH_OPERATORS = 0, 1, 2, 3
TENSOR_SHAPE, TENSOR_TYPE, TENSOR_BUFFER, TENSOR_NAME = 0, 1, 2, 3
OPERATOR_OPCODE, OPERATOR_INPUTS, OPERATOR_OUTPUTS, OPERATOR_OPTIONS = 0, 1, 2, 4
BUFFER_DATA = 0
CONV_OPTIONS = {"padding": 0, "stride_w": 1, "stride_h": 2, "activation": 3, "dilation_w": 4, "dilation_h": 5}
DEPTHWISE_OPTIONS = {"padding": 0, "stride_w": 1, "stride_h": 2, "activation": 4, "dilation_w": 5, "dilation_h": 6}
ELEMENTWISE_ACTIVATION = 0  # Add / Sub / MulOptions

ADD, CONV_2D, DEPTHWISE_CONV_2D, MUL, RELU, RESHAPE, SUB, ABS = 0, 3, 4, 18, 19, 22, 41, 101
FLOAT32, INT32 = 0, 2
PADDING = {0: "SAME", 1: "VALID"}
ACTIVATION = {0: None, 1: "Relu", 3: "Relu6"}
ELEMENTWISE = {ADD: "AddV2", SUB: "Sub", MUL: "Mul"}
UNARY = {RELU: "Relu", ABS: "Abs"}


def _field(table, slot):
    return table.Offset(4 + 2 * slot)


def _scalar(table, slot, flags, default=0):
    o = _field(table, slot)
    return table.Get(flags, table.Pos + o) if o else default


def _array(table, slot, dtype):
    o = _field(table, slot)
    if not o:
        return np.zeros(0, dtype)
    return np.frombuffer(table.Bytes, dtype=dtype, count=table.VectorLen(o), offset=table.Vector(o))


def _tables(table, slot):
    o = _field(table, slot)
    if not o:
        return []
    start = table.Vector(o)
    return [Table(table.Bytes, table.Indirect(start + 4 * i)) for i in range(table.VectorLen(o))]


def _string(table, slot):
    o = _field(table, slot)
    return table.String(table.Pos + o).decode() if o else ""


def _subtable(table, slot):
    o = _field(table, slot)
    return Table(table.Bytes, table.Indirect(table.Pos + o)) if o else None


class _Reader:
    """The first subgraph's tensors as graph nodes; constants made on first use."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            buf = bytearray(f.read())
        model = Table(buf, encode.Get(N.UOffsetTFlags.packer_type, buf, 0))
        # The larger of the two, as TFLite's GetBuiltinCode: the int8 deprecated field stops at 127.
        self.opcodes = [max(_scalar(c, OPCODE_DEPRECATED_BUILTIN, N.Int8Flags), _scalar(c, OPCODE_BUILTIN, N.Int32Flags))
                        for c in _tables(model, MODEL_OPERATOR_CODES)]
        self.buffers = [_array(b, BUFFER_DATA, np.uint8) for b in _tables(model, MODEL_BUFFERS)]
        self.subgraph = _tables(model, MODEL_SUBGRAPHS)[0]
        self.tensors = [{"name": _string(t, TENSOR_NAME), "shape": _array(t, TENSOR_SHAPE, np.int32).tolist(),
                         "type": _scalar(t, TENSOR_TYPE, N.Int8Flags), "buffer": _scalar(t, TENSOR_BUFFER, N.Uint32Flags)}
                        for t in _tables(self.subgraph, SUBGRAPH_TENSORS)]
        names = [t["name"] for t in self.tensors]
        if len(set(names)) != len(names):
            raise ValueError(f"{path}: tensor names are not unique")
        self.weights, self.const_nodes = {}, []

    def name(self, index):
        return self.tensors[index]["name"]

    def value(self, index):
        t = self.tensors[index]
        data = self.buffers[t["buffer"]]
        if not data.size:
            raise ValueError(f"tensor {t['name']} has no constant value")
        dtype = {FLOAT32: np.float32, INT32: np.int32}[t["type"]]
        return data.copy().view(dtype).reshape(t["shape"])  # aligned, writable

    def constant(self, name, value):
        """A Const node `name` holding value (float32, or int32 for a shape)."""
        if name not in self.weights:
            self.weights[name] = np.ascontiguousarray(value)
            self.const_nodes.append(Node(name, "Const", []))
        return name, 0

    def input(self, index):
        """An op's input: a Const node for a tensor with data, else the op that makes it."""
        t = self.tensors[index]
        if self.buffers[t["buffer"]].size:
            return self.constant(t["name"], self.value(index))
        return t["name"], 0


def _check_float(reader, op_index, inputs):
    for t in (reader.tensors[i] for i in inputs if i >= 0):  # -1: an optional input left out
        if t["type"] != FLOAT32:
            raise NotImplementedError(f"{reader.path}: operator {op_index}: tensor {t['name']} is not float32 "
                                      f"(TensorType {t['type']})")


def _activation(out, code):
    """The TF op of a fused activation (None for none)."""
    if code not in ACTIVATION:
        raise NotImplementedError(f"{out}: fused activation {code} is not supported")
    return ACTIVATION[code]


def _elementwise(reader, code, inputs, out, options):
    """The op, named out, or named out + "/linear" and followed by its fused activation."""
    activation = _activation(out, _scalar(options, ELEMENTWISE_ACTIVATION, N.Int8Flags) if options else 0)
    args = [reader.input(i) for i in inputs]
    if activation is None:
        return [Node(out, ELEMENTWISE[code], args)]
    return [Node(out + "/linear", ELEMENTWISE[code], args), Node(out, activation, [(out + "/linear", 0)])]


def _convolution(reader, code, inputs, out, options):
    slots = CONV_OPTIONS if code == CONV_2D else DEPTHWISE_OPTIONS

    def option(key, flags, default):  # defaults as schema.fbs gives them
        return _scalar(options, slots[key], flags, default)

    x, filt = inputs[0], reader.value(inputs[1])
    if code == CONV_2D:  # OHWI -> TF's HWIO
        op, hwio = "_FusedConv2D", filt.transpose(1, 2, 3, 0)
    else:  # [1, H, W, C * M] -> TF's [H, W, C, M]
        channels = reader.tensors[x]["shape"][3]
        op, hwio = "FusedDepthwiseConv2dNative", filt[0].reshape(filt.shape[1], filt.shape[2], channels, -1)
    args = [reader.input(x), reader.constant(reader.name(inputs[1]) + "/hwio", hwio)]
    fused_ops = []
    if len(inputs) > 2 and inputs[2] >= 0:
        args.append(reader.input(inputs[2]))
        fused_ops.append("BiasAdd")
    activation = _activation(out, option("activation", N.Int8Flags, 0))
    if activation is not None:
        fused_ops.append(activation)
    attr = {"strides": [1, option("stride_h", N.Int32Flags, 0), option("stride_w", N.Int32Flags, 0), 1],
            "dilations": [1, option("dilation_h", N.Int32Flags, 1), option("dilation_w", N.Int32Flags, 1), 1],
            "padding": PADDING[option("padding", N.Int8Flags, 0)], "fused_ops": fused_ops}
    return [Node(out, op, args, attr)]


def _reshape(reader, inputs, out, batch):
    if len(inputs) < 2:
        raise NotImplementedError(f"{out}: RESHAPE without a shape tensor is not supported")
    shape = [int(s) for s in reader.value(inputs[1])]
    # The graph's fixed batch, kept in the reshape, would pin every traced call to it.
    if shape and shape[0] == batch == reader.tensors[inputs[0]]["shape"][0]:
        shape[0] = -1
    return [Node(out, "Reshape", [reader.input(inputs[0]), reader.constant(out + "/shape", np.array(shape, np.int32))])]


def load(path):
    """Parse the TFLite file at `path`; returns a Graph whose node names are tensor names."""
    reader = _Reader(path)
    graph_inputs = _array(reader.subgraph, SUBGRAPH_INPUTS, np.int32).tolist()
    if len(graph_inputs) != 1:
        raise NotImplementedError(f"{path}: {len(graph_inputs)} inputs (one supported)")
    batch = reader.tensors[graph_inputs[0]]["shape"][0]
    nodes = [Node(reader.name(graph_inputs[0]), "Placeholder", [])]
    for k, op in enumerate(_tables(reader.subgraph, SUBGRAPH_OPERATORS)):
        code = reader.opcodes[_scalar(op, OPERATOR_OPCODE, N.Uint32Flags)]
        inputs = _array(op, OPERATOR_INPUTS, np.int32).tolist()
        out = reader.name(_array(op, OPERATOR_OUTPUTS, np.int32)[0])
        options = _subtable(op, OPERATOR_OPTIONS)
        _check_float(reader, k, inputs[:1] if code == RESHAPE else inputs)  # a shape is int32
        if code in (CONV_2D, DEPTHWISE_CONV_2D):
            nodes += _convolution(reader, code, inputs, out, options)
        elif code in ELEMENTWISE:
            nodes += _elementwise(reader, code, inputs, out, options)
        elif code in UNARY:
            nodes.append(Node(out, UNARY[code], [reader.input(inputs[0])]))
        elif code == RESHAPE:
            nodes += _reshape(reader, inputs, out, batch)
        else:
            raise NotImplementedError(f"{path}: TFLite builtin operator {code} (operator {k}) is not supported")
    outputs = [reader.name(i) for i in _array(reader.subgraph, SUBGRAPH_OUTPUTS, np.int32)]
    signature = {"inputs": [nodes[0].name], "outputs": outputs}
    return Graph(reader.const_nodes + nodes, reader.weights, signature)
