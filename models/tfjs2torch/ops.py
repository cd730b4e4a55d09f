"""TensorFlow op semantics in PyTorch, for executing TF.js graphs.

Values flow as `V`: a tensor plus whether a 4-D tensor is held channels-first (NCHW).
Convolution-like ops work in NCHW; ops with axis or shape arguments see TF's NHWC view.
Keeping feature maps in NCHW between convolutions avoids a transpose per layer.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F


class V:
    __slots__ = ("t", "nchw", "key")

    def __init__(self, t, nchw=False, key=None):
        self.t, self.nchw, self.key = t, nchw, key


_TF_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def tf_view(v):
    """The tensor in TF (NHWC) layout."""
    return v.t.permute(0, 2, 3, 1) if v.nchw else v.t


def nchw_view(v):
    if v.nchw:
        return v.t
    if v.t.dim() != 4:
        raise ValueError(f"expected a 4-D tensor, got shape {tuple(v.t.shape)}")
    return v.t.permute(0, 3, 1, 2)


def _broadcast_to_nchw(t):
    """A TF-layout operand broadcast against an NCHW 4-D tensor."""
    if t.dim() == 0:
        return t
    while t.dim() < 4:
        t = t.unsqueeze(0)
    return t.permute(0, 3, 1, 2)


def ints(v):
    return [int(x) for x in v.t.reshape(-1).tolist()]


def _axis(a, rank):
    return a + rank if a < 0 else a


def _same_pad(size, k, s, d):
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _spatial_padding(node, x, kh, kw, sh, sw, dh=1, dw=1):
    """(top, bottom, left, right) padding for a 2-D window op."""
    pad = node.attr.get("padding", "VALID")
    if pad == "SAME":
        t, b = _same_pad(int(x.shape[2]), kh, sh, dh)
        l, r = _same_pad(int(x.shape[3]), kw, sw, dw)
        return t, b, l, r
    if pad == "EXPLICIT":
        p = node.attr["explicit_paddings"]  # NHWC pairs
        return p[2], p[3], p[4], p[5]
    return 0, 0, 0, 0


def _hw(lst):
    return lst[1], lst[2]  # NHWC attribute lists


class Context:
    """What ops need from the module: cached, pre-transformed constants."""

    def __init__(self, module):
        self.module = module

    def prepared(self, v, role, fn):
        """fn(v.t) computed once per constant input (a buffer), else every call."""
        if v.key is None:
            return fn(v.t)
        return self.module.cached_constant(f"{v.key}|{role}", lambda: fn(v.t))


def _prelu(ctx, x, alpha, channels_first):
    """x if x >= 0 else alpha x: one aten::prelu where alpha is one value per channel of an NCHW
    x (the same numbers as the where / mul / lt it replaces, three ops a call), else those."""
    if channels_first and x.dim() == 4 and alpha.t.numel() == x.shape[1] == alpha.t.shape[-1]:
        return F.prelu(x, ctx.prepared(alpha, "alpha_channels", lambda t: t.reshape(-1)))
    a = ctx.prepared(alpha, "alpha_nchw" if channels_first else "alpha",
                     _broadcast_to_nchw if channels_first else (lambda t: t))
    return torch.where(x < 0, a * x, x)


def _activation(name, x, node):
    if name in ("BiasAdd", "FusedBatchNorm"):
        raise AssertionError("handled by caller")
    if name == "Relu":
        return F.relu(x)
    if name == "Relu6":
        return F.hardtanh(x, 0.0, 6.0)
    if name == "Elu":
        return F.elu(x)
    if name == "Sigmoid":
        return torch.sigmoid(x)
    if name == "Tanh":
        return torch.tanh(x)
    if name == "LeakyRelu":
        return F.leaky_relu(x, node.attr.get("leakyrelu_alpha", 0.2))
    raise NotImplementedError(f"fused activation {name}")


def _apply_fused(ctx, node, x, args, channels_first, fused=None):
    """Apply a fused op list (BiasAdd / FusedBatchNorm, then an activation) to x."""
    fused = node.attr.get("fused_ops", []) if fused is None else fused
    shape_fn = (lambda t: t.reshape(-1, 1, 1)) if channels_first else (lambda t: t)
    rest = list(args)
    for name in fused:
        if name == "BiasAdd":
            bias = ctx.prepared(rest.pop(0), "bias", shape_fn)
            x = x + bias
        elif name == "FusedBatchNorm":
            scale, offset, mean, var = rest[:4]
            rest = rest[4:]
            eps = node.attr.get("epsilon", 1e-3)
            x = (x - shape_fn(mean.t)) * shape_fn(scale.t / torch.sqrt(var.t + eps)) + shape_fn(offset.t)
        elif name == "Prelu":
            x = _prelu(ctx, x, rest.pop(0), channels_first)
        else:
            x = _activation(name, x, node)
    return x


def conv2d(ctx, node, args, depthwise=False):
    x = nchw_view(args[0])
    filt = args[1]
    kh, kw = filt.t.shape[0], filt.t.shape[1]
    sh, sw = _hw(node.attr.get("strides", [1, 1, 1, 1]))
    dh, dw = _hw(node.attr.get("dilations", [1, 1, 1, 1]))
    if depthwise:
        c, m = filt.t.shape[2], filt.t.shape[3]
        role, groups = "dw", c

        def oihw(w):
            return w.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
    else:
        role, groups = "conv", 1

        def oihw(w):
            return w.permute(3, 2, 0, 1)
    # A fused bias is the convolution's own bias: one op less per layer.
    fused, rest, bias = node.attr.get("fused_ops", []), list(args[2:]), None
    if fused[:1] == ["BiasAdd"]:
        bias = ctx.prepared(rest.pop(0), "bias", lambda w: w.reshape(-1).contiguous())
        fused = fused[1:]
    t, b, l, r = _spatial_padding(node, x, kh, kw, sh, sw, dh, dw)
    if t == b and l == r:
        weight = ctx.prepared(filt, role, lambda w: oihw(w).contiguous())
        y = F.conv2d(x, weight, bias, (sh, sw), (t, l), (dh, dw), groups)
    elif dh == 1 and dw == 1:
        # Uneven padding (TF's SAME at stride 2: one more row below than above) as even
        # padding and a filter grown by zeros on the short side: the same sums, without
        # copying the whole input into a padded tensor first (faceres at 2 threads 8.9 ->
        # 5.5 ms with the bias above, facekit_bench_models; BlazeFace and FaceMesh unchanged).
        ph, pw = max(t, b), max(l, r)
        weight = ctx.prepared(filt, role + "_grown",
                              lambda w: F.pad(oihw(w), (pw - l, pw - r, ph - t, ph - b)).contiguous())
        y = F.conv2d(x, weight, bias, (sh, sw), (ph, pw), 1, groups)
    else:
        weight = ctx.prepared(filt, role, lambda w: oihw(w).contiguous())
        y = F.conv2d(F.pad(x, (l, r, t, b)), weight, bias, (sh, sw), 0, (dh, dw), groups)
    return V(_apply_fused(ctx, node, y, rest, True, fused), nchw=True)


def conv2d_backprop_input(ctx, node, args):
    out_shape = ints(args[0])  # NHWC
    filt = args[1]  # [kh, kw, out_channels, in_channels]
    x = nchw_view(args[2])
    kh, kw = filt.t.shape[0], filt.t.shape[1]
    sh, sw = _hw(node.attr["strides"])
    weight = ctx.prepared(filt, "convT", lambda t: t.permute(3, 2, 0, 1).contiguous())
    y = F.conv_transpose2d(x, weight, None, (sh, sw))
    oh, ow = out_shape[1], out_shape[2]
    if node.attr.get("padding") == "SAME":
        t, _ = _same_pad(oh, kh, sh, 1)
        l, _ = _same_pad(ow, kw, sw, 1)
    else:
        t = l = 0
    return V(y[:, :, t:t + oh, l:l + ow], nchw=True)


def _pool(node, args, kind):
    x = nchw_view(args[0])
    kh, kw = _hw(node.attr["ksize"])
    sh, sw = _hw(node.attr["strides"])
    t, b, l, r = _spatial_padding(node, x, kh, kw, sh, sw)
    if kind == "max":
        if t or b or l or r:
            x = F.pad(x, (l, r, t, b), value=float("-inf"))
        return V(F.max_pool2d(x, (kh, kw), (sh, sw)), nchw=True)
    if not (t or b or l or r):
        return V(F.avg_pool2d(x, (kh, kw), (sh, sw)), nchw=True)
    # TF excludes padding from the average: divide by the count of real pixels.
    ones = torch.ones((1, 1, int(x.shape[2]), int(x.shape[3])), dtype=x.dtype)
    total = F.avg_pool2d(F.pad(x, (l, r, t, b)), (kh, kw), (sh, sw), divisor_override=1)
    count = F.avg_pool2d(F.pad(ones, (l, r, t, b)), (kh, kw), (sh, sw), divisor_override=1)
    return V(total / count, nchw=True)


def _linear(ctx, node, args):
    a, b = args[0], args[1]
    ta, tb = node.attr.get("transpose_a", False), node.attr.get("transpose_b", False)
    x = tf_view(a)
    if ta:
        x = x.transpose(-1, -2)
    if b.key is not None:
        weight = ctx.prepared(b, f"linear{int(tb)}", lambda t: (t if tb else t.t()).contiguous())
        y = F.linear(x, weight)
    else:
        y = torch.matmul(x, b.t.transpose(-1, -2) if tb else b.t)
    return V(_apply_fused(ctx, node, y, args[2:], False))


def _binary(fn):
    def op(ctx, node, args):
        a, b = args
        if a.nchw or b.nchw:
            ta = a.t if a.nchw else _broadcast_to_nchw(a.t)
            tb = b.t if b.nchw else _broadcast_to_nchw(b.t)
            if (a.nchw and b.t.dim() > 4) or (b.nchw and a.t.dim() > 4):
                return V(fn(tf_view(a), tf_view(b)))
            return V(fn(ta, tb), nchw=True)
        return V(fn(a.t, b.t))
    return op


def _unary(fn):
    return lambda ctx, node, args: V(fn(args[0].t), args[0].nchw)


def add_n(ctx, node, args):
    acc = args[0]
    for other in args[1:]:
        acc = _binary(torch.add)(ctx, node, [acc, other])
    return acc


def prelu(ctx, node, args):
    x, alpha = args
    return V(_prelu(ctx, x.t, alpha, x.nchw), x.nchw)


def pad(ctx, node, args):
    x = args[0]
    p = np.array(ints(args[1])).reshape(-1, 2)
    value = float(args[2].t.reshape(-1)[0]) if len(args) > 2 else 0.0
    mode = node.attr.get("mode", "CONSTANT") if node.op == "MirrorPad" else "CONSTANT"
    # F.pad lists (before, after) pairs from the last dimension backwards.
    dims = [2, 1, 3, 0] if x.nchw else list(reversed(range(x.t.dim())))  # TF axis of each
    flat = []
    for d in dims:
        flat += [int(p[d][0]), int(p[d][1])]
    t, nchw = x.t, x.nchw
    if mode == "CONSTANT":
        return V(F.pad(t, flat, value=value), nchw)
    if mode == "REFLECT":
        return V(F.pad(t, flat, mode="reflect"), nchw)
    raise NotImplementedError(f"MirrorPad mode {mode}")


def reshape(ctx, node, args):
    x = tf_view(args[0])
    shape = ints(args[1])
    # [1, N, C] (a detector's anchors x values): N follows the input's height and width, so a
    # fully convolutional model traced at one size runs at any multiple of its stride.
    if len(shape) == 3 and shape[0] == 1 and shape[2] > 0 and x.dim() > 0 and int(x.shape[0]) == 1:
        return V(x.reshape(x.shape[0], -1, shape[2]))
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        shape[shape.index(-1)] = int(x.numel()) // known if known else 0
    # Keep the batch dimension dynamic in the traced module.
    if len(shape) > 0 and x.dim() > 0 and shape[0] == int(x.shape[0]) == 1:
        shape[0] = -1
    return V(x.reshape(shape))


def concat(ctx, node, args):
    axis = ints(args[-1])[0]
    vals = args[:-1]
    if all(v.nchw for v in vals):
        return V(torch.cat([v.t for v in vals], _TF_TO_NCHW_AXIS[_axis(axis, 4)]), nchw=True)
    ts = [tf_view(v) for v in vals]
    return V(torch.cat(ts, _axis(axis, ts[0].dim())))


def _reduce(fn):
    def op(ctx, node, args):
        x = args[0]
        axes = ints(args[1])
        keep = node.attr.get("keep_dims", False)
        if x.nchw and keep:
            dims = [_TF_TO_NCHW_AXIS[_axis(a, 4)] for a in axes]
            return V(fn(x.t, dims, True), nchw=True)
        t = tf_view(x)
        dims = [_axis(a, t.dim()) for a in axes]
        return V(fn(t, dims, keep))
    return op


def _max(t, dims, keep):
    for d in sorted(dims, reverse=True):
        t = t.amax(d, keepdim=keep)
    return t


def _source_coords(out_size, in_size, align_corners, half_pixel):
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners and out_size > 1:
        return dst * (in_size - 1) / (out_size - 1)
    scale = in_size / out_size
    if half_pixel:
        return (dst + 0.5) * scale - 0.5
    return dst * scale


def _lerp_axis(t, dim, out_size, align_corners, half_pixel):
    in_size = int(t.shape[dim])
    src = _source_coords(out_size, in_size, align_corners, half_pixel)
    floor = np.floor(src)
    lo = np.clip(floor, 0, in_size - 1).astype(np.int64)
    hi = np.clip(floor + 1, 0, in_size - 1).astype(np.int64)
    frac = torch.tensor(src - floor, dtype=t.dtype)
    shape = [1] * t.dim()
    shape[dim] = out_size
    frac = frac.reshape(shape)
    a = t.index_select(dim, torch.from_numpy(lo))
    b = t.index_select(dim, torch.from_numpy(hi))
    return a + (b - a) * frac


def resize_bilinear(ctx, node, args):
    x = nchw_view(args[0])
    oh, ow = ints(args[1])
    ac = node.attr.get("align_corners", False)
    hp = node.attr.get("half_pixel_centers", False)
    y = _lerp_axis(x, 2, oh, ac, hp)
    return V(_lerp_axis(y, 3, ow, ac, hp), nchw=True)


def resize_nearest(ctx, node, args):
    x = nchw_view(args[0])
    oh, ow = ints(args[1])
    ac = node.attr.get("align_corners", False)
    hp = node.attr.get("half_pixel_centers", False)

    def idx(out_size, in_size):
        if ac and out_size > 1:
            src = np.round(np.arange(out_size) * (in_size - 1) / (out_size - 1))
        elif hp:
            src = np.floor((np.arange(out_size) + 0.5) * in_size / out_size)
        else:
            src = np.floor(np.arange(out_size) * in_size / out_size)
        return torch.from_numpy(np.clip(src, 0, in_size - 1).astype(np.int64))

    y = x.index_select(2, idx(oh, int(x.shape[2]))).index_select(3, idx(ow, int(x.shape[3])))
    return V(y, nchw=True)


_CAST = {"DT_FLOAT": torch.float32, "DT_INT32": torch.int32, "DT_BOOL": torch.bool, "DT_INT64": torch.int64}


def cast(ctx, node, args):
    return V(args[0].t.to(_CAST[node.attr["DstT"]]), args[0].nchw)


def transpose(ctx, node, args):
    return V(tf_view(args[0]).permute(ints(args[1])))


def split_v(ctx, node, args):
    t = tf_view(args[0])
    sizes = ints(args[1])
    axis = _axis(ints(args[2])[0], t.dim())
    if -1 in sizes:
        sizes[sizes.index(-1)] = int(t.shape[axis]) - (sum(sizes) + 1)
    return [V(p) for p in torch.split(t, sizes, axis)]


def split(ctx, node, args):
    axis_v, x = args
    t = tf_view(x)
    axis = _axis(ints(axis_v)[0], t.dim())
    n = node.attr["num_split"]
    return [V(p) for p in torch.chunk(t, n, axis)]


def sparse_to_dense(ctx, node, args):
    indices, shape, values, default = (a.t for a in args)
    out = torch.full(ints(args[1]), default.reshape(-1)[0].item(), dtype=values.dtype)
    if indices.numel() == 0:
        return V(out)
    idx = indices.long().reshape(indices.shape[0], -1) if indices.dim() > 1 else indices.long().reshape(-1, 1)
    vals = values.reshape(-1).expand(idx.shape[0]) if values.numel() == 1 else values.reshape(-1)
    for i in range(idx.shape[0]):
        out[tuple(idx[i].tolist())] = vals[i]
    del shape
    return V(out)


def strided_slice(ctx, node, args):
    t = tf_view(args[0])
    begin, end, strides = ints(args[1]), ints(args[2]), ints(args[3])
    bm, em = node.attr.get("begin_mask", 0), node.attr.get("end_mask", 0)
    sm = node.attr.get("shrink_axis_mask", 0)
    if node.attr.get("ellipsis_mask", 0) or node.attr.get("new_axis_mask", 0):
        raise NotImplementedError("StridedSlice with ellipsis/new-axis masks")
    index = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        if sm & (1 << i):
            index.append(b)
            continue
        index.append(slice(None if bm & (1 << i) else b, None if em & (1 << i) else e, s))
    return V(t[tuple(index)])


def gather(ctx, node, args):
    params, indices = tf_view(args[0]), args[1].t
    axis = _axis(ints(args[2])[0], params.dim()) if len(args) > 2 else 0
    out = params.index_select(axis, indices.reshape(-1).long())
    return V(out.reshape(list(params.shape[:axis]) + list(indices.shape) + list(params.shape[axis + 1:])))


def topk(ctx, node, args):
    t = tf_view(args[0])
    k = ints(args[1])[0]
    values, idx = torch.topk(t, k, dim=-1, sorted=node.attr.get("sorted", True))
    return [V(values), V(idx.to(torch.int32))]


def expand_dims(ctx, node, args):
    t = tf_view(args[0])
    return V(t.unsqueeze(_axis(ints(args[1])[0], t.dim() + 1)))


def squeeze(ctx, node, args):
    t = tf_view(args[0])
    dims = node.attr.get("squeeze_dims", [])
    if not dims:
        return V(t.squeeze())
    for d in sorted((_axis(d, t.dim()) for d in dims), reverse=True):
        t = t.squeeze(d)
    return V(t)


def softmax(ctx, node, args):
    return V(torch.softmax(tf_view(args[0]), dim=-1))


def bias_add(ctx, node, args):
    x, b = args
    bias = ctx.prepared(b, "bias_nchw" if x.nchw else "bias", (lambda t: t.reshape(-1, 1, 1)) if x.nchw else (lambda t: t))
    return V(x.t + bias, x.nchw)


def _floordiv(a, b):
    if a.dtype.is_floating_point or b.dtype.is_floating_point:
        return torch.floor(a / b)
    return torch.div(a, b, rounding_mode="floor")


OPS = {
    "Conv2D": conv2d,
    "_FusedConv2D": conv2d,
    "DepthwiseConv2dNative": lambda c, n, a: conv2d(c, n, a, depthwise=True),
    "FusedDepthwiseConv2dNative": lambda c, n, a: conv2d(c, n, a, depthwise=True),
    "Conv2DBackpropInput": conv2d_backprop_input,
    "MaxPool": lambda c, n, a: _pool(n, a, "max"),
    "AvgPool": lambda c, n, a: _pool(n, a, "avg"),
    "MatMul": _linear,
    "_FusedMatMul": _linear,
    "BiasAdd": bias_add,
    "Add": _binary(torch.add),
    "AddV2": _binary(torch.add),
    "AddN": add_n,
    "Sub": _binary(torch.sub),
    "Mul": _binary(torch.mul),
    "RealDiv": _binary(torch.div),
    "Div": _binary(torch.div),
    "FloorDiv": _binary(_floordiv),
    "FloorMod": _binary(torch.remainder),
    "Maximum": _binary(torch.maximum),
    "Minimum": _binary(torch.minimum),
    "Equal": _binary(torch.eq),
    "Greater": _binary(torch.gt),
    "Less": _binary(torch.lt),
    "Pow": _binary(torch.pow),
    "Relu": _unary(F.relu),
    "Relu6": _unary(lambda t: F.hardtanh(t, 0.0, 6.0)),
    "Elu": _unary(F.elu),
    "Selu": _unary(F.selu),
    "Sigmoid": _unary(torch.sigmoid),
    "Tanh": _unary(torch.tanh),
    "Exp": _unary(torch.exp),
    "Log": _unary(torch.log),
    "Sqrt": _unary(torch.sqrt),
    "Rsqrt": _unary(torch.rsqrt),
    "Square": _unary(torch.square),
    "Neg": _unary(torch.neg),
    "Abs": _unary(torch.abs),
    "LeakyRelu": lambda c, n, a: V(F.leaky_relu(a[0].t, n.attr.get("alpha", 0.2)), a[0].nchw),
    "Prelu": prelu,
    "Softmax": softmax,
    "Identity": lambda c, n, a: a[0],
    "Pad": pad,
    "PadV2": pad,
    "MirrorPad": pad,
    "Reshape": reshape,
    "ConcatV2": concat,
    "Mean": _reduce(lambda t, d, k: t.mean(d, keepdim=k)),
    "Sum": _reduce(lambda t, d, k: t.sum(d, keepdim=k)),
    "Max": _reduce(_max),
    "ResizeBilinear": resize_bilinear,
    "ResizeNearestNeighbor": resize_nearest,
    "Cast": cast,
    "Transpose": transpose,
    "SplitV": split_v,
    "Split": split,
    "SparseToDense": sparse_to_dense,
    "StridedSlice": strided_slice,
    "GatherV2": gather,
    "TopKV2": topk,
    "ExpandDims": expand_dims,
    "Squeeze": squeeze,
}
