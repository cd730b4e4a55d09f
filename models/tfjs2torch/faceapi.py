"""face-api.js's weights-only nets rebuilt as torch modules (no graph in the package: the
architecture is its JS source, `@vladmandic/face-api@1.7.15` `package/src/...`).

- `FaceRecognitionNet`: dlib's metric-learning ResNet-29 (`dlib_face_recognition_resnet_model_v1`),
  `src/faceRecognitionNet/{FaceRecognitionNet,residualLayer,convLayer,scaleLayer}.ts`.
- `AgeGenderNet`: TinyXception(2) + two fully connected heads,
  `src/ageGenderNet/AgeGenderNet.ts`, `src/xception/TinyXception.ts`,
  `src/common/{depthwiseSeparableConv,fullyConnectedLayer}.ts`.
- `SsdMobilenetv1`: the SSD face detector, `src/ssdMobilenetv1/*.ts` (MobileNet v1, prediction
  layer, box predictors, output layer); its boxes decoded against the anchors it ships.

The first two take the tensor face-api builds before its first layer: the 150 / 112 px square
crop, NHWC RGB, `(x - meanRgb) / 255`, meanRgb = (122.782, 117.001, 104.298); the SSD takes
the 512 px square, NHWC RGB 0..255, and normalises itself (x / 127.5 - 1). Weights come from the
package's `*-weights_manifest.json` + shards, decoded like the graph converter decodes
weights (`graph._read_weights`: uint8 / uint16 affine quantisation, float16).
"""
import json
import os

import torch
import torch.nn.functional as F

from .graph import _read_weights
from .ops import _same_pad


def load_weights(manifest_path):
    """name -> np.ndarray for a face-api `*-weights_manifest.json` and its shards."""
    with open(manifest_path) as f:
        manifest = json.load(f)
    return _read_weights(manifest, os.path.dirname(manifest_path))


def _t(a):
    return torch.from_numpy(a.copy()).float()


def _hwio(a):
    """TF filter HWIO -> torch OIHW."""
    return _t(a).permute(3, 2, 0, 1).contiguous()


def _pad_same(x, k, s):
    """TF 'SAME' padding of a k x k window at stride s (the odd pixel bottom / right)."""
    t, b = _same_pad(int(x.shape[2]), k, s, 1)
    l, r = _same_pad(int(x.shape[3]), k, s, 1)
    return (l, r, t, b)


class _Base(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self._n = 0

    def _buf(self, t):
        name = f"w{self._n}"
        self._n += 1
        self.register_buffer(name, t.contiguous())
        return name

    def w(self, name):
        return getattr(self, name)


class FaceRecognitionNet(_Base):
    """dlib ResNet-29 as face-api runs it. Input [N, 150, 150, 3] normalised; output [N, 128]."""

    RESIDUAL = ["conv32_1", "conv32_2", "conv32_3", "conv64_down", "conv64_1", "conv64_2", "conv64_3",
                "conv128_down", "conv128_1", "conv128_2", "conv256_down", "conv256_1", "conv256_2",
                "conv256_down_out"]

    def __init__(self, weights):
        super().__init__()
        self.convs = {}
        self.convs["conv32_down"] = self._conv(weights, "conv32_down")
        for block in self.RESIDUAL:
            for k in ("conv1", "conv2"):
                self.convs[f"{block}/{k}"] = self._conv(weights, f"{block}/{k}")
        self.fc = self._buf(_t(weights["fc"]).t())  # [128, 256] for F.linear

    def _conv(self, weights, prefix):
        """convLayer: conv + bias, then the scale layer (x * weights + biases), folded:
        (conv(x) + b) * s + c = conv(x) with filters * s, bias b * s + c."""
        filt = _hwio(weights[f"{prefix}/conv/filters"])
        bias = _t(weights[f"{prefix}/conv/bias"])
        s = _t(weights[f"{prefix}/scale/weights"])
        c = _t(weights[f"{prefix}/scale/biases"])
        return self._buf(filt * s.reshape(-1, 1, 1, 1)), self._buf(bias * s + c), int(filt.shape[2])

    def _apply(self, x, name, down, relu):
        wname, bname, k = self.convs[name]
        if down:  # convDown: stride 2, 'valid'
            y = F.conv2d(x, self.w(wname), self.w(bname), 2)
        else:  # 'same' at stride 1 (odd kernels: symmetric)
            y = F.conv2d(x, self.w(wname), self.w(bname), 1, k // 2)
        return F.relu(y) if relu else y

    def _residual(self, x, block):
        out = self._apply(x, f"{block}/conv1", False, True)
        out = self._apply(out, f"{block}/conv2", False, False)
        return F.relu(out + x)

    def _residual_down(self, x, block):
        out = self._apply(x, f"{block}/conv1", True, True)
        out = self._apply(out, f"{block}/conv2", False, False)
        pooled = F.avg_pool2d(x, 2, 2)
        if pooled.shape[2] != out.shape[2] or pooled.shape[3] != out.shape[3]:
            # face-api appends a zero row (bottom) and a zero column (right) to `out`
            out = F.pad(out, (0, int(pooled.shape[3] - out.shape[3]), 0, int(pooled.shape[2] - out.shape[2])))
        if pooled.shape[1] != out.shape[1]:
            pooled = torch.cat([pooled, torch.zeros_like(pooled)], 1)
        return F.relu(pooled + out)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        out = self._apply(x, "conv32_down", True, True)
        out = F.max_pool2d(out, 3, 2)
        for block in self.RESIDUAL:
            out = self._residual_down(out, block) if "down" in block else self._residual(out, block)
        pooled = out.mean(dim=(2, 3))
        return (F.linear(pooled, self.w(self.fc)),)


class AgeGenderNet(_Base):
    """TinyXception(2) + age / gender heads as face-api runs them. Input [N, 112, 112, 3]
    normalised; outputs age [N, 1] (years) and gender [N, 2] (softmax: male, female)."""

    NUM_MAIN_BLOCKS = 2

    def __init__(self, weights):
        super().__init__()
        self.p = {}
        self.p["conv_in"] = self._conv(weights, "entry_flow/conv_in")
        for rb in ("entry_flow/reduction_block_0", "entry_flow/reduction_block_1", "exit_flow/reduction_block"):
            self.p[f"{rb}/separable_conv0"] = self._sep(weights, f"{rb}/separable_conv0")
            self.p[f"{rb}/separable_conv1"] = self._sep(weights, f"{rb}/separable_conv1")
            self.p[f"{rb}/expansion_conv"] = self._conv(weights, f"{rb}/expansion_conv")
        for i in range(self.NUM_MAIN_BLOCKS):
            for k in range(3):
                name = f"middle_flow/main_block_{i}/separable_conv{k}"
                self.p[name] = self._sep(weights, name)
        self.p["exit_flow/separable_conv"] = self._sep(weights, "exit_flow/separable_conv")
        self.age = (self._buf(_t(weights["fc/age/weights"]).t()), self._buf(_t(weights["fc/age/bias"])))
        self.gender = (self._buf(_t(weights["fc/gender/weights"]).t()), self._buf(_t(weights["fc/gender/bias"])))

    def _conv(self, weights, prefix):
        filt = _hwio(weights[f"{prefix}/filters"])
        return self._buf(filt), self._buf(_t(weights[f"{prefix}/bias"])), int(filt.shape[2])

    def _sep(self, weights, prefix):
        dw = _t(weights[f"{prefix}/depthwise_filter"])  # [kh, kw, C, 1]
        kh, kw, c, m = dw.shape
        dw = dw.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
        pw = _hwio(weights[f"{prefix}/pointwise_filter"])
        return self._buf(dw), self._buf(pw), self._buf(_t(weights[f"{prefix}/bias"])), int(kh), int(c)

    def _conv_same(self, x, name, stride):
        wname, bname, k = self.p[name]
        return F.conv2d(F.pad(x, _pad_same(x, k, stride)), self.w(wname), self.w(bname), stride)

    def _separable(self, x, name):
        """tf.separableConv2d(stride 1, 'same') + bias."""
        dw, pw, bias, k, c = self.p[name]
        y = F.conv2d(F.pad(x, _pad_same(x, k, 1)), self.w(dw), None, 1, 0, 1, c)
        return F.conv2d(y, self.w(pw), self.w(bias))

    def _reduction(self, x, block, activate_input=True):
        out = F.relu(x) if activate_input else x
        out = self._separable(out, f"{block}/separable_conv0")
        out = self._separable(F.relu(out), f"{block}/separable_conv1")
        out = F.max_pool2d(F.pad(out, _pad_same(out, 3, 2), value=float("-inf")), 3, 2)
        return out + self._conv_same(x, f"{block}/expansion_conv", 2)

    def _main(self, x, block):
        out = self._separable(F.relu(x), f"{block}/separable_conv0")
        out = self._separable(F.relu(out), f"{block}/separable_conv1")
        out = self._separable(F.relu(out), f"{block}/separable_conv2")
        return out + x

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        out = F.relu(self._conv_same(x, "conv_in", 2))
        out = self._reduction(out, "entry_flow/reduction_block_0", False)
        out = self._reduction(out, "entry_flow/reduction_block_1")
        for i in range(self.NUM_MAIN_BLOCKS):
            out = self._main(out, f"middle_flow/main_block_{i}")
        out = self._reduction(out, "exit_flow/reduction_block")
        out = F.relu(self._separable(out, "exit_flow/separable_conv"))
        pooled = F.avg_pool2d(out, 7, 2).flatten(1)  # tf.avgPool([7, 7], [2, 2], 'valid')
        age = F.linear(pooled, self.w(self.age[0]), self.w(self.age[1]))
        gender = torch.softmax(F.linear(pooled, self.w(self.gender[0]), self.w(self.gender[1])), dim=1)
        return age, gender


class SsdMobilenetv1(_Base):
    """face-api's SSD MobileNet v1 face detector. Input [N, 512, 512, 3] RGB 0..255 (the photo
    zero-padded at the bottom / right to a square, then resized). Outputs boxes [N, 5118, 4]
    (ymin, xmin, ymax, xmax as fractions of the padded square) and scores [N, 5118]: face-api's
    OutputLayer decode, before its score threshold and NMS (done by the caller)."""

    BN_EPS = 1e-3
    # (channels in, channels out, depthwise stride) of MobileNet v1's 13 separable layers.
    SEPARABLE = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2),
                 (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 1024, 2),
                 (1024, 1024, 1)]
    EXTRA = [(1, 1), (3, 2), (1, 1), (3, 2), (1, 1), (3, 2), (1, 1), (3, 2)]  # prediction layer: (k, stride)

    def __init__(self, weights):
        super().__init__()
        self.conv0 = self._pointwise(weights, "MobilenetV1/Conv2d_0_pointwise", 3, 2)
        self.dw, self.pw = [], []
        for i, (_, _, stride) in enumerate(self.SEPARABLE, start=1):
            self.dw.append(self._depthwise(weights, f"MobilenetV1/Conv2d_{i}_depthwise", stride))
            self.pw.append(self._pointwise(weights, f"MobilenetV1/Conv2d_{i}_pointwise", 1, 1))
        self.extra = [self._pointwise(weights, f"Prediction/Conv2d_{i}_pointwise", k, s)
                      for i, (k, s) in enumerate(self.EXTRA)]
        self.predictors = []
        for i in range(6):
            p = f"Prediction/BoxPredictor_{i}"
            self.predictors.append((self._buf(_hwio(weights[f"{p}/BoxEncodingPredictor/weights"])),
                                    self._buf(_t(weights[f"{p}/BoxEncodingPredictor/biases"])),
                                    self._buf(_hwio(weights[f"{p}/ClassPredictor/weights"])),
                                    self._buf(_t(weights[f"{p}/ClassPredictor/biases"]))))
        self.anchors = self._buf(_t(weights["Output/extra_dim"]).reshape(-1, 4))
        # The TF graph's shape constants ride along in the manifest; face-api's loader
        # (extractParamsFromWeightMap.ts) does not read them either.
        for name in list(weights.keys()):
            if name.startswith(("Preprocessor/", "Postprocessor/", "concat")) or "/stack" in name or "strided_slice" in name:
                weights[name]

    def _pointwise(self, weights, prefix, k, stride):
        """conv + batch-norm offset, ReLU6 (pointwiseConvLayer.ts; k 3 for conv 0 and the
        prediction layer's stride-2 convolutions)."""
        return (self._buf(_hwio(weights[f"{prefix}/weights"])),
                self._buf(_t(weights[f"{prefix}/convolution_bn_offset"])), k, stride)

    def _depthwise(self, weights, prefix, stride):
        """3x3 depthwise conv + batch norm (folded), ReLU6 (mobileNetV1.ts depthwiseConvLayer)."""
        f = _t(weights[f"{prefix}/depthwise_weights"])  # [3, 3, C, 1]
        gamma, beta = _t(weights[f"{prefix}/BatchNorm/gamma"]), _t(weights[f"{prefix}/BatchNorm/beta"])
        mean, var = _t(weights[f"{prefix}/BatchNorm/moving_mean"]), _t(weights[f"{prefix}/BatchNorm/moving_variance"])
        inv = gamma / torch.sqrt(var + self.BN_EPS)
        weight = f.permute(2, 3, 0, 1) * inv.view(-1, 1, 1, 1)  # [C, 1, 3, 3]
        return self._buf(weight), self._buf(beta - mean * inv), int(weight.shape[0]), stride

    def _run_pointwise(self, x, layer):
        w, b, k, stride = layer
        return torch.clamp(F.conv2d(F.pad(x, _pad_same(x, k, stride)), self.w(w), self.w(b), stride), 0, 6)

    def _run_depthwise(self, x, layer):
        w, b, c, stride = layer
        return torch.clamp(F.conv2d(F.pad(x, _pad_same(x, 3, stride)), self.w(w), self.w(b), stride, 0, 1, c), 0, 6)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2) / 127.5 - 1.0
        out = self._run_pointwise(x, self.conv0)
        conv11 = out
        for i in range(len(self.SEPARABLE)):
            out = self._run_pointwise(self._run_depthwise(out, self.dw[i]), self.pw[i])
            if i + 1 == 11:
                conv11 = out
        extra, y = [], out
        for layer in self.extra:
            y = self._run_pointwise(y, layer)
            extra.append(y)
        boxes, classes = [], []
        # Feature maps in face-api's order; each predictor's output flattened as (row, column, anchor).
        for f, (bw, bb, cw, cb) in zip([conv11, out, extra[1], extra[3], extra[5], extra[7]], self.predictors):
            n = f.shape[0]
            boxes.append(F.conv2d(f, self.w(bw), self.w(bb)).permute(0, 2, 3, 1).reshape(n, -1, 4))
            classes.append(F.conv2d(f, self.w(cw), self.w(cb)).permute(0, 2, 3, 1).reshape(n, -1, 3))
        enc, cls = torch.cat(boxes, 1), torch.cat(classes, 1)
        a = self.w(self.anchors).unsqueeze(0)
        ah, aw = a[..., 2] - a[..., 0], a[..., 3] - a[..., 1]
        acy, acx = a[..., 0] + ah / 2, a[..., 1] + aw / 2
        # outputLayer.ts: centre offsets / 10, log sizes / 5, relative to each anchor.
        half_h, half_w = torch.exp(enc[..., 2] / 5) * ah / 2, torch.exp(enc[..., 3] / 5) * aw / 2
        cy, cx = enc[..., 0] / 10 * ah + acy, enc[..., 1] / 10 * aw + acx
        return torch.stack([cy - half_h, cx - half_w, cy + half_h, cx + half_w], -1), torch.sigmoid(cls[..., 1])


ARCHITECTURES = {
    "face-api FaceRecognitionNet": FaceRecognitionNet,
    "face-api AgeGenderNet": AgeGenderNet,
    "face-api SsdMobilenetv1": SsdMobilenetv1,
}


def build(entry, root):
    """The torch module of a weights-only catalog entry (its `architecture`), weights loaded."""
    cls = ARCHITECTURES.get(entry["architecture"])
    if cls is None:
        raise NotImplementedError(f"no torch architecture for {entry['architecture']!r}")
    weights = _Tracked(load_weights(os.path.join(root, entry["path"])))
    module = cls(weights).eval()
    unused = sorted(set(weights) - weights.used)
    if unused:
        raise ValueError(f"{entry['path']}: weights the architecture does not use: {unused}")
    return module


class _Tracked(dict):
    """A weight map that records which entries were read."""

    def __init__(self, *a):
        super().__init__(*a)
        self.used = set()

    def __getitem__(self, key):
        self.used.add(key)
        return super().__getitem__(key)
