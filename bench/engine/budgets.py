"""Median latency of single calls against the detection budgets (issue 14), one table.

usage: .venv/bin/python bench/engine/budgets.py [--runs 15] [--threads N]

Images come from shared/data at run time (nothing stored): a 640x480 one-face photo (obama1
cropped 4:3 from the top, the whole face in it), a 1024x1024 headshot (faces-large), a 1920x1080 group photo
(face-api's sample1 padded to 16:9). Decoding is not timed.
"""
import argparse
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "accuracy"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cpu  # noqa: E402
import datasets  # noqa: E402

import facekit  # noqa: E402


def median_ms(f, runs):
    f()
    f()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        ms.append((time.perf_counter() - t0) * 1000)
    r = f()
    return float(np.median(ms)), (len(r) if isinstance(r, list) else 1)


def images():
    one = cv2.imread(os.path.join(datasets.SHARED, "faces-dev", "obama", "obama1.jpg"))
    h = min(one.shape[0], one.shape[1] * 3 // 4)
    w = h * 4 // 3
    y0, x0 = 0, (one.shape[1] - w) // 2  # from the top: a centred crop cuts the forehead off
    one = cv2.resize(one[y0:y0 + h, x0:x0 + w], (640, 480), interpolation=cv2.INTER_AREA)
    head = cv2.imread(os.path.join(datasets.SHARED, "faces-large", "face", "celebahq1024-27705.jpg"))
    group = cv2.imread(datasets.sample_group_photos()[0])
    group = cv2.resize(group, (1920, int(group.shape[0] * 1920 / group.shape[1])))
    canvas = np.full((1080, 1920, 3), 128, np.uint8)
    hh = min(1080, group.shape[0])
    canvas[:hh] = group[(group.shape[0] - hh) // 2:(group.shape[0] - hh) // 2 + hh]
    return one, head, canvas


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    eng = facekit.Engine(num_threads=args.threads)
    fast = facekit.Engine(num_threads=args.threads, descriptor="fast")
    # The descriptors before 2026-12-01 (faceres for MobileFaceNet): the same-run baselines.
    earlier = facekit.Engine(num_threads=args.threads, descriptor="faceres+dlib")
    earlier_fast = facekit.Engine(num_threads=args.threads, descriptor="faceres")
    one, head, group = images()
    lm = eng.largest_face(one).landmarks
    rows = [
        ("640x480, one face: Engine.extract, accurate descriptor (detect + 5 points + MobileFaceNet + dlib)", 16,
         lambda: [eng.extract(one)]),
        ("640x480, one face: Engine.extract, the earlier accurate descriptor (faceres + dlib)", None,
         lambda: [earlier.extract(one)]),
        ("640x480, one face: Engine.extract, fast descriptor (detect + 5 points + MobileFaceNet)", 16,
         lambda: [fast.extract(one)]),
        ("640x480, one face: Engine.extract, the earlier fast descriptor (faceres)", None,
         lambda: [earlier_fast.extract(one)]),
        ("  descriptor only, accurate (MobileFaceNet + dlib, landmarks given)", None, lambda: [eng.extract(one, lm)]),
        ("  descriptor only, the earlier accurate (faceres + dlib)", None, lambda: [earlier.extract(one, lm)]),
        ("  descriptor only, fast (MobileFaceNet, landmarks given)", None, lambda: [fast.extract(one, lm)]),
        ("  descriptor only, the earlier fast (faceres)", None, lambda: [earlier_fast.extract(one, lm)]),
        ("1024x1024 headshot, portrait mode (any face from 5 % of the side)", 30, lambda: eng.detect(head, portrait=True)),
        ("1024x1024 headshot, min_face 80, max 2048", 30, lambda: eng.detect(head, min_face=80, max_face=2048)),
        ("1024x1024 headshot, min_face 20 (Engine.detect's default), max 2048", 30,
         lambda: eng.detect(head, min_face=20, max_face=2048)),
        ("1920x1080 group photo, min_face 40 (max 300)", 60, lambda: eng.detect(group, min_face=40, max_face=300)),
        ("1920x1080 group photo, min_face 20 (max 300)", 150, lambda: eng.detect(group, min_face=20, max_face=300)),
    ]
    print(f"CPU: {cpu.summary()}")
    print(f"facekit from {os.path.dirname(facekit.__file__)}; threads {args.threads or os.cpu_count()} (of {os.cpu_count()} cores), OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY')}, {args.runs} runs each, load average {os.getloadavg()[0]:.1f}")
    print("| work | faces | median ms | budget ms |")
    print("|---|---|---|---|")
    for label, budget, f in rows:
        ms, n = median_ms(f, args.runs)
        print(f"| {label} | {n} | {ms:.1f} | {budget or '-'} |", flush=True)


if __name__ == "__main__":
    main()
