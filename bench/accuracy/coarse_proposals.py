"""Could a coarser pyramid level say where the finest level must look? The evidence for leaving
the finest level whole (docs/BENCHMARKS.md, 2026-12-02 10:40).

The finest level is ~9/10 of the detector's work at min_face 20 and is there only for the
smallest faces. A coarser level sees such a face at 5-10 px: too small to find, perhaps not too
small to light up. This script measures, for a coarser level at `--levels` of the image:

1. Isolated small faces: a face of shared/data, scaled to a random 20-44 px box with 1.6 box
   sides of its own photo around it, pasted into a 1920x1080 crop of one of face-api's group
   photos (away from their faces). Per face: whether Engine.detect (min_face 20, the whole
   finest level) finds it, and the coarser level's best anchor score within one cell of it.
2. What a proposal costs: the share of the finest level that windows would cover, made of the
   32 px tiles within `--reach` px of every stride-16 or stride-32 anchor scoring at least the
   threshold, joined into rectangles, on the six group photos (1920 px wide) and a 1024x1024
   headshot.

usage: .venv/bin/python bench/accuracy/coarse_proposals.py [--levels 0.4167,0.5,0.6] [--reach 96]
"""
import argparse
import glob
import os
import random
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
from detection import GT  # noqa: E402

import facekit  # noqa: E402

SOURCES = [("faces-dev", 40), ("glasses-dev", 40), ("hair-dev", 40), ("head-pose", 20), ("age-gender-utk", 30),
           ("spoof-nuaa", 20), ("blink", 4)]
THRESHOLDS = [0.01, 0.03, 0.05, 0.1]


class Detector:
    """BlazeFace's raw anchor scores on an image scaled by `scale`, as the engine feeds it."""

    def __init__(self):
        self.rt = facekit.ModelRuntime(warm_up=False)
        info = next(m for m in self.rt.models() if m["name"] == "blazeface-back")
        self.k, self.mean = info["scale"], info["mean"][0]

    def scores(self, img, scale):
        small = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        h, w = (small.shape[0] + 31) // 32 * 32, (small.shape[1] + 31) // 32 * 32
        x = np.full((1, h, w, 3), -self.mean * self.k, np.float32)
        x[0, :small.shape[0], :small.shape[1]] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB) * self.k - self.mean * self.k
        out = self.rt.run("blazeface-back", x)
        sig = lambda a: 1 / (1 + np.exp(-np.clip(a, -50, 50)))  # noqa: E731
        return (sig(out[0][0, :, 0].reshape(h // 16, w // 16, 2).max(-1)),
                sig(out[1][0, :, 0].reshape(h // 32, w // 32, 6).max(-1)))


def backgrounds():
    out = []
    for g in datasets.sample_group_photos():
        img = cv2.imread(g)
        s = 1920 / img.shape[1]
        img = cv2.resize(img, (1920, round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
        y0 = (img.shape[0] - 1080) // 2
        boxes = [[b[0] * s, b[1] * s - y0, b[2] * s, b[3] * s] for b in GT[os.path.basename(g)]]
        out.append((np.ascontiguousarray(img[y0:y0 + 1080]), boxes))
    return out


def pasted_faces(eng, rng):
    """(canvas, face centre, face side) for each source photo whose largest face is found."""
    sources = []
    for d, n in SOURCES:
        paths = sorted(p for p in glob.glob(os.path.join(datasets.SHARED, d, "**", "*"), recursive=True)
                       if p.lower().endswith((".jpg", ".jpeg", ".png")))
        rng.shuffle(paths)
        sources += paths[:n]
    bgs = backgrounds()
    for i, path in enumerate(sources):
        img = cv2.imread(path)
        try:
            face = eng.largest_face(img)
        except facekit.FacekitError:
            continue
        side = rng.uniform(20, 44)
        k = side / max(face.box.width, face.box.height)
        small = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
        cx, cy = (face.box.left + face.box.width / 2) * k, (face.box.top + face.box.height / 2) * k
        r = int(side * 1.6)
        x0, y0 = int(max(cx - r, 0)), int(max(cy - r, 0))
        patch = small[y0:int(cy + r), x0:int(cx + r)]
        bg, boxes = bgs[i % len(bgs)]
        for _ in range(50):  # away from the group photo's own faces
            px, py = rng.randint(0, 1920 - patch.shape[1]), rng.randint(0, 1080 - patch.shape[0])
            fx, fy = px + cx - x0, py + cy - y0
            if all(not (b[0] - 40 < fx < b[0] + b[2] + 40 and b[1] - 40 < fy < b[1] + b[3] + 40) for b in boxes):
                break
        canvas = bg.copy()
        canvas[py:py + patch.shape[0], px:px + patch.shape[1]] = patch
        yield canvas, (fx, fy), side


def window_share(det, img, level, threshold, reach):
    """The windows' area (rectangles around groups of tiles near a proposal) over the image's; over 1
    where rectangles overlap."""
    s16, s32 = det.scores(img, level)
    centres = [((x + .5) * 16 / level, (y + .5) * 16 / level) for y, x in zip(*np.nonzero(s16 >= threshold))]
    centres += [((x + .5) * 32 / level, (y + .5) * 32 / level) for y, x in zip(*np.nonzero(s32 >= threshold))]
    gw, gh = (img.shape[1] + 31) // 32, (img.shape[0] + 31) // 32
    tiles = np.zeros((gh, gw), np.uint8)
    for cx, cy in centres:
        x0, x1 = np.clip([int((cx - reach) // 32), int((cx + reach) // 32)], 0, gw - 1)
        y0, y1 = np.clip([int((cy - reach) // 32), int((cy + reach) // 32)], 0, gh - 1)
        tiles[y0:y1 + 1, x0:x1 + 1] = 1
    n, _, stats, _ = cv2.connectedComponentsWithStats(tiles, connectivity=8)
    return sum(int(stats[i, 2]) * int(stats[i, 3]) for i in range(1, n)) / (gw * gh)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="0.4167,0.5,0.6", help="coarser levels to read, as fractions of the image")
    ap.add_argument("--reach", type=int, default=96, help="window reach around a proposal, px")
    args = ap.parse_args()
    levels = [float(v) for v in args.levels.split(",")]
    eng, det = facekit.Engine(), Detector()
    found, best = [], {lv: [] for lv in levels}
    for canvas, (fx, fy), side in pasted_faces(eng, random.Random(7)):
        found.append(any(abs(f.box.left + f.box.width / 2 - fx) < side / 2 and abs(f.box.top + f.box.height / 2 - fy) < side / 2
                         for f in eng.detect(canvas, min_face=20, max_face=300)))
        for lv in levels:
            s16, _ = det.scores(canvas, lv)
            gx, gy = int(fx * lv / 16), int(fy * lv / 16)
            best[lv].append(float(s16[max(gy - 1, 0):gy + 2, max(gx - 1, 0):gx + 2].max()))
    found = np.array(found)
    print(f"1. {found.sum()}/{len(found)} isolated 20-44 px faces found by Engine.detect (min_face 20, whole finest level)")
    print("| coarser level | lowest score of a found face | " + " | ".join(f"found, not proposed at {t}" for t in THRESHOLDS) + " |")
    print("|---|---|" + "---|" * len(THRESHOLDS))
    for lv in levels:
        s = np.array(best[lv])
        print(f"| {lv} | {s[found].min():.3f} | " + " | ".join(str(int(((s < t) & found).sum())) for t in THRESHOLDS) + " |")
    head = cv2.imread(os.path.join(datasets.SHARED, "faces-large", "face", "celebahq1024-27705.jpg"))
    photos = {"headshot": head}
    for g in datasets.sample_group_photos():
        img = cv2.imread(g)
        photos[os.path.basename(g)] = cv2.resize(img, (1920, round(img.shape[0] * 1920 / img.shape[1])))
    print(f"\n2. share of the finest level in windows (tiles within {args.reach} px of a proposal)")
    print("| coarser level | threshold | " + " | ".join(photos) + " |")
    print("|---|---|" + "---|" * len(photos))
    for lv in levels:
        for t in (0.05, 0.1):
            print(f"| {lv} | {t} | " + " | ".join(f"{window_share(det, img, lv, t, args.reach):.2f}" for img in photos.values()) + " |")


if __name__ == "__main__":
    main()
