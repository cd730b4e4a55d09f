"""What the finest level's skip behind a close-up's head and torso changes (docs/ENGINE.md,
Detection; cpp/src/detect/occlusion.h): Engine.detect's defaults on every photo of shared/data
and the six face-api group photos, with the skip and without (FACEKIT_OCCLUSION=0), faces
compared box for box; and the time per faces-large headshot each way.

usage: .venv/bin/python bench/accuracy/detection_occlusion.py [--runs 3]

Each setting runs in a child process (the switch is read once per process); the two alternate
for the timing, twice each.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import datasets  # noqa: E402


def photos():
    exts = (".jpg", ".jpeg", ".png")
    shared = sorted(p for p in glob.glob(os.path.join(datasets.SHARED, "**", "*"), recursive=True)
                    if p.lower().endswith(exts))
    return shared, datasets.sample_group_photos()


def child(mode, runs):
    import cv2
    import numpy as np

    import facekit
    eng = facekit.Engine()
    shared, groups = photos()
    if mode == "faces":
        out = {}
        for p in shared + groups:
            img = cv2.imread(p)
            if img is None:
                continue
            out[p] = [[round(f.box.left, 1), round(f.box.top, 1), round(f.box.width, 1), round(f.box.height, 1),
                       round(f.score, 3)] for f in eng.detect(img)]
        json.dump(out, sys.stdout)
        return
    heads = [cv2.imread(p) for p in sorted(glob.glob(os.path.join(datasets.SHARED, "faces-large", "face", "*.jpg")))]
    for img in heads[:3]:
        eng.detect(img)
    per_photo = []
    for img in heads:
        ms = []
        for _ in range(runs):
            t0 = time.perf_counter()
            eng.detect(img)
            ms.append((time.perf_counter() - t0) * 1000)
        per_photo.append(float(np.median(ms)))
    json.dump(per_photo, sys.stdout)


def run_child(mode, occlusion, runs):
    env = dict(os.environ, FACEKIT_OCCLUSION="1" if occlusion else "0")
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode, "--runs", str(runs)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", choices=["faces", "times"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.runs)
        return
    import numpy as np
    on, off = run_child("faces", True, args.runs), run_child("faces", False, args.runs)
    shared, groups = photos()
    differ = [p for p in on if on[p] != off.get(p)]
    print(f"Engine.detect defaults on {len(shared)} photos of shared/data and {len(groups)} group photos: "
          f"{sum(len(v) for v in off.values())} faces without the skip, {sum(len(v) for v in on.values())} with it; "
          f"{len(differ)} photos differ")
    for p in differ:
        print(f"  {os.path.relpath(p, datasets.SHARED) if p.startswith(datasets.SHARED) else os.path.basename(p)}: "
              f"without {off.get(p)} with {on[p]}")
    rows = []
    for _ in range(2):
        rows.append(("with the skip", run_child("times", True, args.runs)))
        rows.append(("without (FACEKIT_OCCLUSION=0)", run_child("times", False, args.runs)))
    print(f"\nfaces-large headshots (1024x1024, {len(rows[0][1])}), Engine.detect defaults, ms per photo "
          f"(median of {args.runs} calls each):")
    print("| setting | median | mean | 90th percentile |\n|---|---|---|---|")
    for name, ms in rows:
        print(f"| {name} | {np.median(ms):.1f} | {np.mean(ms):.1f} | {np.percentile(ms, 90):.1f} |")


if __name__ == "__main__":
    main()
