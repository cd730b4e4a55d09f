"""What the finest level's skip behind a close-up's head and torso changes (docs/ENGINE.md,
Detection; cpp/src/detect/occlusion.h): Engine.detect's defaults on every photo of shared/data
and the six face-api group photos, with the skip and without (FACEKIT_OCCLUSION=0), faces
compared box for box; and the time per faces-large headshot each way.

usage: .venv/bin/python bench/accuracy/detection_occlusion.py [--runs 3]
       .venv/bin/python bench/accuracy/detection_occlusion.py --switch FACEKIT_AVX512 --exact --descriptors

--switch compares another on-by-default switch with NAME=0 the same way (FACEKIT_AVX512: the
kernels' AVX-512 path against the AVX2 one); --exact compares every float as it comes (boxes,
scores, the five points) instead of rounded; --descriptors also compares each photo's
descriptors (Engine.extract), value for value.

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


def child(mode, runs, exact=False, descriptors=False):
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
            faces = eng.detect(img)
            if exact:
                out[p] = [[f.box.left, f.box.top, f.box.width, f.box.height, f.score] +
                          np.asarray(f.landmarks, dtype=np.float64).ravel().tolist() for f in faces]
            else:
                out[p] = [[round(f.box.left, 1), round(f.box.top, 1), round(f.box.width, 1), round(f.box.height, 1),
                           round(f.score, 3)] for f in faces]
            if descriptors:  # the largest face's
                try:
                    out[p + "#descriptor"] = np.asarray(eng.extract(img), dtype=np.float64).tolist()
                except facekit.FacekitError as e:
                    out[p + "#descriptor"] = str(e)
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


def run_child(mode, on, args):
    env = dict(os.environ, **{args.switch: "1" if on else "0"})
    flags = (["--exact"] if args.exact else []) + (["--descriptors"] if args.descriptors else [])
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode, "--runs", str(args.runs)] + flags,
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--switch", default="FACEKIT_OCCLUSION", help="the on-by-default switch compared with NAME=0")
    ap.add_argument("--exact", action="store_true", help="compare boxes, scores and the five points unrounded")
    ap.add_argument("--descriptors", action="store_true", help="also compare each photo's descriptors")
    ap.add_argument("--child", choices=["faces", "times"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.runs, args.exact, args.descriptors)
        return
    import numpy as np
    with_label = "with the skip" if args.switch == "FACEKIT_OCCLUSION" else f"{args.switch} on"
    without_label = "without" if args.switch == "FACEKIT_OCCLUSION" else f"{args.switch}=0"
    on, off = run_child("faces", True, args), run_child("faces", False, args)
    shared, groups = photos()
    differ = [p for p in on if on[p] != off.get(p)]
    faces_of = {k: v for k, v in on.items() if not k.endswith("#descriptor")}
    faces_off = {k: v for k, v in off.items() if not k.endswith("#descriptor")}
    print(f"Engine.detect defaults on {len(shared)} photos of shared/data and {len(groups)} group photos"
          f"{' (unrounded, with the five points)' if args.exact else ''}"
          f"{' and their Engine.extract descriptors' if args.descriptors else ''}: "
          f"{sum(len(v) for v in faces_off.values())} faces {without_label}, "
          f"{sum(len(v) for v in faces_of.values())} {with_label}; {len(differ)} results differ")
    for p in differ:
        name = os.path.relpath(p, datasets.SHARED) if p.startswith(datasets.SHARED) else os.path.basename(p)
        if p.endswith("#descriptor") and isinstance(on[p], list) and isinstance(off.get(p), list):
            print(f"  {name}: largest |difference| {np.max(np.abs(np.subtract(on[p], off[p]))):.3g}")
        else:
            print(f"  {name}: {without_label} {off.get(p)} {with_label} {on[p]}")
    rows = []
    for _ in range(2):
        rows.append((with_label, run_child("times", True, args)))
        rows.append(("without (FACEKIT_OCCLUSION=0)" if args.switch == "FACEKIT_OCCLUSION" else without_label,
                     run_child("times", False, args)))
    print(f"\nfaces-large headshots (1024x1024, {len(rows[0][1])}), Engine.detect defaults, ms per photo "
          f"(median of {args.runs} calls each):")
    print("| setting | median | mean | 90th percentile |\n|---|---|---|---|")
    for name, ms in rows:
        print(f"| {name} | {np.median(ms):.1f} | {np.mean(ms):.1f} | {np.percentile(ms, 90):.1f} |")


if __name__ == "__main__":
    main()
