"""How much texture a face keeps at the detector's smallest size: the evidence for
kMinFaceTexture (cpp/src/detect/texture.h), below which the detector skips a region.

The statistic is the one the detector computes: the grey level's std-dev over 8x8 cells (on the
pyramid level, scaled with INTER_AREA); a face counts the cells whose centre lies in its box,
and keeps the largest of them, minimised over the 64 positions of the cell grid.

1. Every face found in shared/data (and the face-api group photos), scaled so its box is 20 px.
2. Faces scaled to a 30 px box, with their contrast cut to a fraction: which the detector still
   finds, and the statistic of those.

usage: python bench/accuracy/detection_texture.py [--faces N]
"""
import argparse
import collections
import glob
import os
import random
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import facekit  # noqa: E402

CELL = 8
SETS = ["age-gender-utk", "blink", "faces-dev", "faces-large", "glasses-dev", "hair-dev", "head-pose", "orl-faces",
        "spoof-nuaa"]


def photos():
    out = []
    for d in SETS:
        out += sorted(p for p in glob.glob(os.path.join(datasets.SHARED, d, "**", "*"), recursive=True)
                      if p.lower().endswith((".jpg", ".jpeg", ".png", ".pgm")))
    return out + datasets.sample_group_photos()


def face_texture(grey, x0, y0, x1, y1):
    """The largest cell std-dev over the box, minimised over the grid's positions."""
    g = grey.astype(np.float64)
    least = float("inf")
    for oy in range(CELL):
        for ox in range(CELL):
            most = 0.0
            cy = oy + CELL * np.ceil((y0 - oy - CELL / 2) / CELL)
            while cy + CELL / 2 <= y1:
                cx = ox + CELL * np.ceil((x0 - ox - CELL / 2) / CELL)
                while cx + CELL / 2 <= x1:
                    c = g[max(0, int(cy)):int(cy) + CELL, max(0, int(cx)):int(cx) + CELL]
                    if c.size:
                        most = max(most, c.std())
                    cx += CELL
                cy += CELL
            least = min(least, most)
    return least


def scaled(img, s):
    return cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                      interpolation=cv2.INTER_AREA) if s < 1 else img


def at_smallest_size(eng, paths):
    vals = []
    for p in paths:
        img = cv2.imread(p)
        if img is None:
            continue
        for f in eng.detect(img, min_face=20):
            b = f.box
            s = min(1.0, 20.0 / max(b.width, b.height))
            grey = cv2.cvtColor(scaled(img, s), cv2.COLOR_BGR2GRAY)
            vals.append(face_texture(grey, b.left * s, b.top * s, (b.left + b.width) * s, (b.top + b.height) * s))
    v = np.array(vals)
    print(f"1. {len(v)} faces at a 20 px box: cell std-dev min {v.min():.2f}, 1st percentile "
          f"{np.percentile(v, 1):.2f}, median {np.median(v):.2f}")


def at_low_contrast(eng, paths, n):
    rows = collections.defaultdict(list)
    random.Random(1).shuffle(paths)
    used = 0
    for p in paths:
        if used == n:
            break
        img = cv2.imread(p)
        faces = eng.detect(img, min_face=20) if img is not None else []
        if len(faces) != 1:
            continue
        b = faces[0].box
        s = 30.0 / max(b.width, b.height)
        if s >= 1:
            continue
        used += 1
        pad = cv2.copyMakeBorder(scaled(img, s), 64, 64, 64, 64, cv2.BORDER_REPLICATE)
        x0, y0 = b.left * s + 64, b.top * s + 64
        x1, y1 = x0 + b.width * s, y0 + b.height * s
        for k in (1.0, 0.5, 0.2, 0.1, 0.05, 0.04, 0.03, 0.02):
            low = np.clip((pad.astype(np.float32) - 128) * k + 128, 0, 255).round().astype(np.uint8)
            found = any(abs(f.box.left + f.box.width / 2 - (x0 + x1) / 2) < 10 and
                        abs(f.box.top + f.box.height / 2 - (y0 + y1) / 2) < 10
                        for f in eng.detect(low, min_face=24, max_face=60))
            rows[k].append((found, face_texture(cv2.cvtColor(low, cv2.COLOR_BGR2GRAY), x0, y0, x1, y1)))
    print(f"2. {used} faces at a 30 px box, contrast cut:\n\n| contrast | found | cell std-dev of the found: min | median |"
          "\n|---|---|---|---|")
    for k in sorted(rows, reverse=True):
        seen = [t for f, t in rows[k] if f]
        lo = f"{min(seen):.2f}" if seen else "-"
        med = f"{np.median(seen):.2f}" if seen else "-"
        print(f"| {k:g} | {len(seen)}/{len(rows[k])} | {lo} | {med} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=159, help="faces for the contrast part")
    args = ap.parse_args()
    eng = facekit.Engine()
    paths = photos()
    at_smallest_size(eng, paths)
    at_low_contrast(eng, [p for p in paths if "pedestrians" not in p], args.faces)


if __name__ == "__main__":
    sys.exit(main())
