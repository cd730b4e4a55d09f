"""Pedestrian detection: NanoDet (facekit) vs OpenCV's HOG people detector, on hand-checked
boxes (tests/data/pedestrians.json: a Penn-Fudan photo and a vtest.avi frame).

usage: python bench/accuracy/pedestrians.py
Recall / precision at IoU >= 0.5, median latency of 10 runs per image.
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

VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"


def load(key):
    kind, name = key.split(":")
    if kind == "pennfudan":
        return cv2.imread(os.path.join(datasets.SHARED, "pedestrians-pennfudan", "PNGImages", name))
    cap = cv2.VideoCapture(VTEST)
    cap.set(cv2.CAP_PROP_POS_FRAMES, int(name))
    return cap.read()[1]


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def matches(dets, gts):
    used, tp = set(), 0
    for g in gts:
        best = max(((iou(g, d), i) for i, d in enumerate(dets) if i not in used), default=(0, None))
        if best[0] >= 0.5:
            used.add(best[1])
            tp += 1
    return tp


def timed(fn, img):
    fn(img)
    ms = []
    for _ in range(10):
        t0 = time.perf_counter()
        out = fn(img)
        ms.append((time.perf_counter() - t0) * 1000)
    return out, float(np.median(ms))


def main():
    gt = json.load(open(os.path.join(datasets.ROOT, "tests", "data", "pedestrians.json")))["images"]
    eng = facekit.Engine()
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    detectors = {
        "NanoDet (facekit)": lambda img: [d[:4] for d in eng.detect_people(img)],
        "OpenCV HOG (default people SVM)": lambda img: [list(map(float, r)) for r in
                                                        hog.detectMultiScale(img, winStride=(8, 8))[0]],
    }
    print("| detector | image | people | found | true positives | recall | precision | median ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, fn in detectors.items():
        tot_tp = tot_gt = tot_det = 0
        for key, boxes in gt.items():
            img = load(key)
            dets, ms = timed(fn, img)
            tp = matches(dets, boxes)
            tot_tp, tot_gt, tot_det = tot_tp + tp, tot_gt + len(boxes), tot_det + len(dets)
            print(f"| {name} | {key} | {len(boxes)} | {len(dets)} | {tp} | {tp / len(boxes):.2f} | "
                  f"{tp / max(1, len(dets)):.2f} | {ms:.0f} |")
        print(f"| {name} | all | {tot_gt} | {tot_det} | {tot_tp} | {tot_tp / tot_gt:.2f} | "
              f"{tot_tp / max(1, tot_det):.2f} | |")


if __name__ == "__main__":
    main()
