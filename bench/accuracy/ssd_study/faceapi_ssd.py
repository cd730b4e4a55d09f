"""face-api.js's SSD MobileNet v1 as face-api runs it end to end (its padding, TF's legacy
bilinear resize, its NMS), around the converter's rebuild of the net: the reference for
`profiles.py`, which measures it (docs/ACCURACY.md, Profile faces). The engine runs the same
net with OpenCV's resize and its own NMS (cpp/src/detect/side_view.cpp).

As @vladmandic/face-api 1.7.15 src/ssdMobilenetv1/*.ts runs it:
  - input: the image (HxWx3 RGB 0..255) zero-padded to a square at the bottom / right
    (padToSquare, isCenterImage=false), resized to 512x512 with TF's legacy bilinear
    (resizeBilinear alignCorners=false, halfPixelCenters=false);
  - NMS as nonMaxSuppression.ts (IoU 0.5, minConfidence 0.5, maxResults 100);
  - boxes to pixels as locateFaces: the box clipped to [0, 1], x (512 / reshaped size), x image size.

usage: /usr/bin/python3 bench/accuracy/ssd_study/faceapi_ssd.py [--thr 0.5] image [image ...]
"""
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'models'))
from tfjs2torch import faceapi  # noqa: E402

PACKAGES = os.environ.get('FACEKIT_PACKAGES', os.path.expanduser('~/.cache/facekit/packages'))
PKG = os.path.join(PACKAGES, '@vladmandic_face-api@1.7.15', 'package')
INPUT_SIZE = 512


def load_model():
    """The converter's rebuild (models/tfjs2torch/faceapi.py SsdMobilenetv1), weights loaded."""
    entry = {"architecture": "face-api SsdMobilenetv1", "path": "model/ssd_mobilenetv1_model-weights_manifest.json"}
    return faceapi.build(entry, PKG)


def resize_bilinear_tf(img, size):
    """TF/tfjs resizeBilinear, alignCorners=False, halfPixelCenters=False. img HxWxC float32."""
    h, w = img.shape[:2]
    sy, sx = h / size, w / size
    ys = np.arange(size, dtype=np.float64) * sy
    xs = np.arange(size, dtype=np.float64) * sx
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    dy = (ys - y0).astype(np.float32)[:, None, None]
    dx = (xs - x0).astype(np.float32)[None, :, None]
    top = img[y0][:, x0] + (img[y0][:, x1] - img[y0][:, x0]) * dx
    bot = img[y1][:, x0] + (img[y1][:, x1] - img[y1][:, x0]) * dx
    return (top + (bot - top) * dy).astype(np.float32)


def preprocess(rgb):
    """rgb HxWx3 (0..255) -> (1,512,512,3) float tensor, as NetInput.toBatchTensor(512, false)."""
    img = rgb.astype(np.float32)
    h, w = img.shape[:2]
    if h != w:
        s = max(h, w)
        pad = np.zeros((s, s, 3), np.float32)
        pad[:h, :w] = img  # padding appended at bottom/right
        img = pad
    if img.shape[0] != INPUT_SIZE:
        img = resize_bilinear_tf(img, INPUT_SIZE)
    return torch.from_numpy(img).unsqueeze(0).contiguous()


def _iou(bi, bj):
    yminI, xminI = min(bi[0], bi[2]), min(bi[1], bi[3])
    ymaxI, xmaxI = max(bi[0], bi[2]), max(bi[1], bi[3])
    yminJ, xminJ = min(bj[0], bj[2]), min(bj[1], bj[3])
    ymaxJ, xmaxJ = max(bj[0], bj[2]), max(bj[1], bj[3])
    aI = (ymaxI - yminI) * (xmaxI - xminI)
    aJ = (ymaxJ - yminJ) * (xmaxJ - xminJ)
    if aI <= 0 or aJ <= 0:
        return 0.0
    ih = max(min(ymaxI, ymaxJ) - max(yminI, yminJ), 0.0)
    iw = max(min(xmaxI, xmaxJ) - max(xminI, xminJ), 0.0)
    inter = ih * iw
    return inter / (aI + aJ - inter)


def non_max_suppression(boxes, scores, max_output, iou_thr, score_thr):
    """Port of face-api nonMaxSuppression.ts (boxes Nx4 list/array, scores N)."""
    out_size = min(max_output, len(boxes))
    cand = [(float(s), i) for i, s in enumerate(scores) if s > score_thr]
    cand.sort(key=lambda c: -c[0])  # stable, like V8's sort
    selected = []
    for score, idx in cand:
        if len(selected) >= out_size:
            break
        s = score
        for j in range(len(selected) - 1, -1, -1):
            iou = _iou(boxes[idx], boxes[selected[j]])
            if iou == 0.0:
                continue
            s *= (1 if iou <= iou_thr else 0)
            if s <= score_thr:
                break
        if s == score:
            selected.append(idx)
    return selected


class Detector:
    def __init__(self, model=None):
        self.model = model if model is not None else load_model()

    def raw(self, rgb):
        with torch.no_grad():
            boxes, scores = self.model(preprocess(rgb))
        return boxes[0].numpy().astype(np.float64), scores[0].numpy().astype(np.float64)

    def detect(self, rgb, min_confidence=0.5, max_results=100, iou=0.5, raw=None):
        """Returns list of (score, (x, y, w, h)) in image pixels, as locateFaces()."""
        h, w = rgb.shape[:2]
        boxes, scores = raw if raw is not None else self.raw(rgb)
        keep = non_max_suppression(boxes, scores, max_results, iou, min_confidence)
        scale = INPUT_SIZE / max(h, w)
        rw, rh = round(w * scale), round(h * scale)  # computeReshapedDimensions (JS Math.round ~ .5 up)
        padX, padY = INPUT_SIZE / rw, INPUT_SIZE / rh
        res = []
        for k in keep:
            b = boxes[k]
            top, bottom = max(0.0, b[0]) * padY, min(1.0, b[2]) * padY
            left, right = max(0.0, b[1]) * padX, min(1.0, b[3]) * padX
            res.append((float(scores[k]), (left * w, top * h, (right - left) * w, (bottom - top) * h)))
        return res


def read_rgb(path):
    import cv2
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise IOError(path)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def main(argv):
    thr = 0.5
    if argv and argv[0] == '--thr':
        thr = float(argv[1])
        argv = argv[2:]
    det = Detector()
    for p in argv:
        rgb = read_rgb(p)
        dets = det.detect(rgb, thr)
        print(f'{p} ({rgb.shape[1]}x{rgb.shape[0]}): {len(dets)} face(s)')
        for s, (x, y, w, h) in dets:
            print(f'  score {s:.4f} box x={x:.1f} y={y:.1f} w={w:.1f} h={h:.1f}')


if __name__ == '__main__':
    main(sys.argv[1:])
