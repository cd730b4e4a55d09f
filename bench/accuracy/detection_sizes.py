"""Face detection recall and precision per face-size band, with Engine.detect's defaults
(every face from 20 px, no maximum), and the time per photo.

usage: .venv/bin/python bench/accuracy/detection_sizes.py [--threads N]

Bands and where their faces come from (ground truth in brackets):
- >= 50 % of the frame: faces-large (50 headshots 1024 px, [faces.csv boxes]) and the UTKFace
  chips of age-gender-utk (80 chips 200 px where the face fills the chip, [one face, the chip]);
- 10-50 % of the frame: faces-dev/multi (3 photos, [7 faces, hand-counted]) and face-api's six
  group photos at their own size ([tests/data/sample_faces.json, hand-checked boxes]);
- 40-100 px and 20-40 px: the group photos scaled down onto a grey 1920x1280 canvas, as
  bench/accuracy/detection.py does.
A detection matches a boxed face when each box's centre lies inside the other; for counted
faces, min(detections, faces) match.
"""
import argparse
import csv
import glob
import json
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
from detection import GT, canvas_of, match  # noqa: E402

import facekit  # noqa: E402

MULTI_COUNTS = {"obama_and_biden.jpg": 3, "kit_with_rose.jpg": 2, "two_people.jpg": 2}


def boxes(faces):
    return [[f.box.left, f.box.top, f.box.width, f.box.height] for f in faces]


class Band:
    def __init__(self, name):
        self.name, self.tp, self.n_gt, self.n_det, self.ms, self.sources = name, 0, 0, 0, [], set()

    def add(self, source, tp, n_gt, n_det, ms):
        self.sources.add(source)
        self.tp += tp
        self.n_gt += n_gt
        self.n_det += n_det
        self.ms.append(ms)

    def row(self):
        prec = self.tp / self.n_det if self.n_det else 1.0
        return (f"| {self.name} | {', '.join(sorted(self.sources))} | {self.n_gt} | {self.tp}/{self.n_gt} = "
                f"{self.tp / self.n_gt:.3f} | {self.tp}/{self.n_det} = {prec:.3f} | {np.median(self.ms):.0f} |")


def timed_detect(eng, img):
    t0 = time.perf_counter()
    faces = eng.detect(img)
    return faces, (time.perf_counter() - t0) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    eng = facekit.Engine(num_threads=args.threads)
    large, mid, px40, px20 = Band(">= 50 % of the frame"), Band("10-50 % of the frame"), Band("40-100 px"), Band("20-40 px")

    with open(os.path.join(datasets.SHARED, "faces-large", "faces.csv")) as f:
        for row in csv.DictReader(f):
            img = cv2.imread(os.path.join(datasets.SHARED, "faces-large", row["file"]))
            faces, ms = timed_detect(eng, img)
            gt = [[float(row["x"]), float(row["y"]), float(row["w"]), float(row["h"])]]
            large.add("faces-large", match(boxes(faces), gt), 1, len(faces), ms)
    for p in sorted(glob.glob(os.path.join(datasets.SHARED, "age-gender-utk", "*.jpg"))):
        img = cv2.imread(p)
        faces, ms = timed_detect(eng, img)
        large.add("UTK chips", min(1, len(faces)), 1, len(faces), ms)

    for name, n in MULTI_COUNTS.items():
        img = cv2.imread(os.path.join(datasets.SHARED, "faces-dev", "multi", name))
        faces, ms = timed_detect(eng, img)
        mid.add("faces-dev/multi", min(n, len(faces)), n, len(faces), ms)
    for name, gt in GT.items():
        img = cv2.imread(os.path.join(datasets.SAMPLES, name))
        faces, ms = timed_detect(eng, img)
        mid.add("face-api group photos", match(boxes(faces), gt), len(gt), len(faces), ms)
        for scale, band in [(0.35, px40), (0.25, px40), (0.18, px20), (0.13, px20)]:
            canvas, scaled = canvas_of(img, gt, scale)
            faces, ms = timed_detect(eng, canvas)
            band.add(f"group photos x{scale}", match(boxes(faces), scaled), len(scaled), len(faces), ms)

    print(f"Engine.detect defaults (min_face 20, no maximum), {args.threads or 'all'} threads")
    print("| face size | photos | faces | recall | precision | median ms per photo |")
    print("|---|---|---|---|---|---|")
    for b in (large, mid, px40, px20):
        print(b.row())


if __name__ == "__main__":
    main()
