"""Latency of the largest-face interfaces' engine calls on big photos with a mid-sized face.

usage: .venv/bin/python bench/engine/big_photos.py [--runs 3]

A faces-dev photo (obama1, 910x1137) scaled to a share of the canvas height and pasted in the
middle of a grey canvas (4032x3024 phone photo, 6000x6000 36 MP, 8000x1000 panorama), JPEG
encoded. Prints each run's ms for decoding, Engine.detect at the protocol's 80-300 px and in
portrait mode, largest_face and extract (docs/ENGINE.md, Largest face).
"""
import argparse
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "accuracy"))
import datasets  # noqa: E402

import facekit  # noqa: E402


def timed(label, f, runs):
    ms, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        try:
            out = f()
        except facekit.FacekitError as e:
            out = e
        ms.append((time.perf_counter() - t0) * 1000)
    found = f"error: {out}" if isinstance(out, Exception) else f"{len(out)} face(s)"
    print(f"  {label:20s} ms {[round(x) for x in ms]}  {found}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    eng = facekit.Engine()
    src = cv2.imread(os.path.join(datasets.SHARED, "faces-dev", "obama", "obama1.jpg"))
    for width, height, share in [(4032, 3024, 1.0), (4032, 3024, 0.3), (6000, 6000, 0.3), (8000, 1000, 0.15)]:
        canvas = np.full((height, width, 3), 110, np.uint8)
        k = share * height / src.shape[0]
        face = cv2.resize(src, None, fx=k, fy=k)
        fh, fw = min(face.shape[0], height), min(face.shape[1], width)
        y0, x0 = (height - fh) // 2, (width - fw) // 2
        canvas[y0:y0 + fh, x0:x0 + fw] = face[:fh, :fw]
        jpg = cv2.imencode(".jpg", canvas)[1].tobytes()
        print(f"{width}x{height}, the photo at {share} of the height", flush=True)
        timed("decode", lambda: [cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)], args.runs)
        timed("detect 80-300", lambda: eng.detect(canvas, min_face=80, max_face=300), args.runs)
        timed("detect portrait", lambda: eng.detect(canvas, portrait=True), args.runs)
        timed("largest_face", lambda: [eng.largest_face(canvas)], args.runs)
        timed("extract", lambda: [eng.extract(canvas)], args.runs)


if __name__ == "__main__":
    main()
