"""Post-training static int8 quantisation (FX graph mode, oneDNN kernels) of dlib's ResNet.

The catalog entry names its float source (`quantized.from`), the layers kept in float and a
calibration set of real face chips (models/calibration/*.json: affine maps into photos of a
pinned npm package). Measured (docs/ACCURACY.md, int8 descriptor): all layers int8 gave a
cosine to the float descriptor of 0.984 (min 0.94) on faces-dev chips; keeping the first
convolution (3 input channels, 7x7, where 8-bit inputs lose most) in float gives 0.999 (min
0.997).
"""
import json
import operator
import os

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import faceapi

MODELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_onednn():
    """Quantised kernels are packed for the engine current at conversion and at load."""
    if "onednn" not in torch.backends.quantized.supported_engines:
        raise SystemExit("this torch has no oneDNN quantised engine")
    torch.backends.quantized.engine = "onednn"


class StaticFaceRecognitionNet(nn.Module):
    """faceapi.FaceRecognitionNet with nn.Conv2d layers and its shape decisions taken for the
    fixed input size, so that torch.fx can trace it (the float net's outputs, exactly)."""

    def __init__(self, net, side):
        super().__init__()
        self.blocks = list(net.RESIDUAL)
        self.convs = nn.ModuleDict()
        for name, (w, b, k) in net.convs.items():
            weight, bias = net.w(w), net.w(b)
            down = name == "conv32_down" or ("down" in name.split("/")[0] and name.endswith("conv1"))
            conv = nn.Conv2d(weight.shape[1], weight.shape[0], k, 2 if down else 1, 0 if down else k // 2)
            conv.weight.data.copy_(weight)
            conv.bias.data.copy_(bias)
            self.convs[self._key(name)] = conv
        fc = net.w(net.fc)
        self.fc = nn.Linear(fc.shape[1], fc.shape[0], bias=False)
        self.fc.weight.data.copy_(fc)
        self.plan = self._plan(side)

    @staticmethod
    def _key(name):
        return name.replace("/", "_")

    def _plan(self, side):
        """Per down block: (columns, rows) of zeros face-api appends to the convolution's
        output, and the channels appended to the pooled shortcut."""
        plan = {}
        with torch.no_grad():
            out = F.max_pool2d(self.convs["conv32_down"](torch.zeros(1, 3, side, side)), 3, 2)
            for block in self.blocks:
                if "down" not in block:
                    continue
                conv = self.convs[self._key(f"{block}/conv2")](self.convs[self._key(f"{block}/conv1")](out))
                pooled = F.avg_pool2d(out, 2, 2)
                plan[block] = (int(pooled.shape[3] - conv.shape[3]), int(pooled.shape[2] - conv.shape[2]),
                               int(conv.shape[1] - pooled.shape[1]))
                out = F.pad(conv, (0, plan[block][0], 0, plan[block][1]))
        return plan

    def forward(self, x):
        out = F.relu(self.convs["conv32_down"](x.permute(0, 3, 1, 2)))
        out = F.max_pool2d(out, 3, 2)
        for block in self.blocks:
            conv = F.relu(self.convs[self._key(f"{block}/conv1")](out))
            conv = self.convs[self._key(f"{block}/conv2")](conv)
            if "down" not in block:
                out = F.relu(conv + out)
                continue
            columns, rows, channels = self.plan[block]
            shortcut = F.avg_pool2d(out, 2, 2)
            if columns or rows:
                conv = F.pad(conv, (0, columns, 0, rows))
            if channels:
                shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, channels))
            out = F.relu(operator.add(shortcut, conv))
        return (self.fc(out.mean(dim=(2, 3))),)


def calibration_chips(spec_path, packages_dir, package_dir):
    """uint8 RGB chips [N, side, side, 3] of a calibration file, each with its mirror image."""
    spec = json.load(open(os.path.join(MODELS_DIR, spec_path)))
    root = package_dir(packages_dir, spec["package"])
    side, chips, photos = spec["side"], [], {}
    for c in spec["chips"]:
        if c["image"] not in photos:
            photos[c["image"]] = cv2.imread(os.path.join(root, c["image"]))
        m = np.array(c["chip_to_photo"], np.float64)
        bgr = cv2.warpAffine(photos[c["image"]], m, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_CONSTANT)
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        chips += [rgb, np.ascontiguousarray(rgb[:, ::-1])]
    return np.stack(chips)


def normalise(chips, input_spec):
    x = (chips.astype(np.float32) - np.array(input_spec["mean"], np.float32)) * np.float32(input_spec["scale"])
    return torch.from_numpy(np.ascontiguousarray(x))


def build(entry, catalog, packages_dir, package_dir):
    """The quantised module of a catalog entry with `quantized`, calibrated, ready to trace."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    use_onednn()
    q = entry["quantized"]
    source = catalog[q["from"]]
    float_net = faceapi.build(source, package_dir(packages_dir, source["package"]))
    if not isinstance(float_net, faceapi.FaceRecognitionNet):
        raise NotImplementedError(f"no int8 recipe for {source['architecture']!r}")
    side = int(entry["input"]["shape"][1])
    static = StaticFaceRecognitionNet(float_net, side).eval()
    mapping = get_default_qconfig_mapping("onednn")
    for name in q.get("float_layers", []):
        mapping = mapping.set_module_name(f"convs.{StaticFaceRecognitionNet._key(name)}", None)
    chips = normalise(calibration_chips(q["calibration"], packages_dir, package_dir), entry["input"])
    with torch.no_grad():
        prepared = prepare_fx(static, mapping, (chips[:1],))
        for i in range(0, len(chips), 8):
            prepared(chips[i:i + 8])
        return convert_fx(prepared).eval()
