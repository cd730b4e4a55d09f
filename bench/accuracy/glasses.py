"""Eyeglasses rule (cpp/src/analyze/glasses.h) on hand-labelled real faces
(tests/data/glasses_labels.json: UTKFace sample + faces-dev).

usage: python bench/accuracy/glasses.py
Prints the shipped rule's confusion matrix and, because its threshold was fitted on these
same faces, a leave-one-out estimate (threshold refitted without each face in turn).
"""
import glob
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
import verification  # noqa: E402

import facekit  # noqa: E402


def labelled():
    lab = json.load(open(os.path.join(datasets.ROOT, "tests", "data", "glasses_labels.json")))["glasses"]
    items = [(p, os.path.basename(p) in lab["age-gender-utk"])
             for p in sorted(glob.glob(os.path.join(datasets.SHARED, "age-gender-utk", "*.jpg")))]
    items += [(p, os.path.relpath(p, os.path.join(datasets.SHARED, "faces-dev")) in lab["faces-dev"])
              for _, p in datasets.faces_dev()]
    return items


def bridge_gradient(img, landmarks):
    """Python replica of the C++ rule's measure, for the leave-one-out estimate."""
    crop = cv2.warpAffine(img, verification.similarity(landmarks, verification.ARCFACE), (112, 112))
    g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return float(np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3))[44:58, 50:62].mean())


def main():
    eng = facekit.Engine()
    truth, shipped, measure = [], [], []
    for path, wears in labelled():
        img = datasets.load(path, 200, 0.3)
        faces = eng.detect(img, min_face=40, max_face=2000)
        if not faces:
            continue
        f = max(faces, key=lambda f: f.box.width * f.box.height)
        truth.append(wears)
        shipped.append(f.glasses)
        measure.append(bridge_gradient(img, f.landmarks))
    t, s, m = np.array(truth), np.array(shipped), np.array(measure)
    print(f"faces: {len(t)} ({t.sum()} with glasses)")
    print("| | predicted glasses | predicted none |\n|---|---|---|")
    print(f"| glasses | {(s & t).sum()} | {(~s & t).sum()} |\n| none | {(s & ~t).sum()} | {(~s & ~t).sum()} |")
    print(f"shipped rule accuracy: {(s == t).mean():.3f}")
    loo = []
    for i in range(len(t)):
        keep = np.arange(len(t)) != i
        thr = max(((np.mean((m[keep] > c) == t[keep]), c) for c in np.unique(m[keep])))[1]
        loo.append((m[i] > thr) == t[i])
    print(f"leave-one-out accuracy: {np.mean(loo):.3f}")


if __name__ == "__main__":
    main()
