"""Face detection recall / precision on the hand-checked boxes of face-api's six sample
group photos (tests/data/sample_faces.json), at their own size and pasted smaller into a
1920x1280 grey canvas (the small-face test of shared/models-provenance.md), per min/max.

usage: python bench/accuracy/detection.py
A detection matches a ground-truth face when each box's centre lies inside the other.
"""
import json
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import facekit  # noqa: E402

GT = json.load(open(os.path.join(datasets.ROOT, "tests", "data", "sample_faces.json")))["faces"]


def centre_inside(a, b):
    cx, cy = a[0] + a[2] / 2, a[1] + a[3] / 2
    return b[0] <= cx <= b[0] + b[2] and b[1] <= cy <= b[1] + b[3]


def match(dets, gts):
    used, tp = set(), 0
    for g in gts:
        for i, d in enumerate(dets):
            if i not in used and centre_inside(g, d) and centre_inside(d, g):
                used.add(i)
                tp += 1
                break
    return tp


def canvas_of(img, boxes, scale):
    """The photo scaled by `scale`, centred on a 1920x1280 grey canvas, with its boxes."""
    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((1280, 1920, 3), 128, np.uint8)
    h, w = small.shape[:2]
    ox, oy = (1920 - w) // 2, (1280 - h) // 2
    canvas[oy:oy + h, ox:ox + w] = small
    return canvas, [[b[0] * scale + ox, b[1] * scale + oy, b[2] * scale, b[3] * scale] for b in boxes]


def run(eng, scale, min_face, max_face):
    tp = n_gt = n_det = 0
    ms = []
    for name, boxes in GT.items():
        img = cv2.imread(os.path.join(datasets.SAMPLES, name))
        if scale != 1.0:
            img, boxes = canvas_of(img, boxes, scale)
        t0 = time.perf_counter()
        faces = eng.detect(img, min_face=min_face, max_face=max_face)
        ms.append((time.perf_counter() - t0) * 1000)
        dets = [[f.box.left, f.box.top, f.box.width, f.box.height] for f in faces]
        tp += match(dets, boxes)
        n_gt += len(boxes)
        n_det += len(dets)
    sizes = [b[2] * scale for bs in GT.values() for b in bs]
    return tp, n_gt, n_det, float(np.median(sizes)), float(np.median(ms))


def main():
    eng = facekit.Engine()
    print("| photos scaled by | median face px | min_face / max_face | recall | precision | median ms per photo |")
    print("|---|---|---|---|---|---|")
    for scale, min_face, max_face in [(1.0, 80, 300), (1.0, 40, 600), (0.5, 40, 300), (0.3, 40, 300),
                                      (0.2, 30, 300), (0.5, 80, 300), (0.3, 80, 300)]:
        tp, n_gt, n_det, size, ms = run(eng, scale, min_face, max_face)
        prec = tp / n_det if n_det else 1.0
        print(f"| {scale} | {size:.0f} | {min_face} / {max_face} | {tp}/{n_gt} = {tp / n_gt:.2f} | "
              f"{tp}/{n_det} = {prec:.2f} | {ms:.0f} |")


if __name__ == "__main__":
    main()
