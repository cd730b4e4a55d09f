"""Does face-api's SSD (faceapi_ssd.py) find the profile faces the engine drops, and at what
cost in false detections? Prints the figures of docs/ACCURACY.md, "Profile faces".

usage: /usr/bin/python3 bench/accuracy/ssd_study/profiles.py   (after scripts/setup)

Sets: the 7 profiles the engine answers "no face" for (3 hair-dev braids, 4 AFLW2000), every
hair-dev and head-pose photo (one person each), OpenCV's sample images (Debian opencv-doc,
mostly no face; a few hold real faces, listed for judging by eye), face-api's six group photos.
"""
import glob
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import datasets  # noqa: E402
import faceapi_ssd as ssd  # noqa: E402

THRESHOLDS = (0.3, 0.5, 0.7)
OPENCV_SAMPLES = "/usr/share/doc/opencv-doc/examples/data"
PROFILES = [os.path.join(datasets.SHARED, "hair-dev", "braids", f"figaro1k-Frame00{n}-org.jpg") for n in ("654", "705", "745")]
PROFILES += [os.path.join(datasets.SHARED, "head-pose", "images", f"image000{n}.jpg") for n in ("10", "32", "36", "74")]


def counts(det, path):
    rgb = ssd.read_rgb(path)
    raw = det.raw(rgb)
    return {t: det.detect(rgb, t, raw=raw) for t in THRESHOLDS}


def main():
    det = ssd.Detector()
    print("== profiles the engine drops: faces found at 0.3 / 0.5 / 0.7")
    for p in PROFILES:
        r = counts(det, p)
        best = max((s for s, _ in r[0.3]), default=0.0)
        print(f"  {os.path.basename(p)}: {'/'.join(str(len(r[t])) for t in THRESHOLDS)}, best {best:.3f}")
    for name, files in (("hair-dev", sorted(glob.glob(os.path.join(datasets.SHARED, "hair-dev", "*", "*.jpg")))),
                        ("head-pose", sorted(glob.glob(os.path.join(datasets.SHARED, "head-pose", "images", "*.jpg"))))):
        rs = [counts(det, p) for p in files]
        for t in THRESHOLDS:
            print(f"== {name} ({len(files)} photos, one person each) at {t}: "
                  f"{sum(len(r[t]) >= 1 for r in rs)} with a face, {sum(len(r[t]) > 1 for r in rs)} with more than one")
    files = sorted(f for f in glob.glob(os.path.join(OPENCV_SAMPLES, "*")) if f.lower().endswith((".jpg", ".png")))
    print(f"== OpenCV samples ({len(files)} images; judge each detection by eye)")
    for p in files:
        r = counts(det, p)
        for score, (x, y, w, h) in r[0.3]:
            print(f"  {os.path.basename(p)} {score:.3f} box {x:.0f},{y:.0f},{w:.0f},{h:.0f}")
    print("== face-api group photos: faces at 0.3 / 0.5 / 0.7")
    for k in range(1, 7):
        r = counts(det, os.path.join(datasets.SAMPLES, f"sample{k}.jpg"))
        print(f"  sample{k}.jpg: {'/'.join(str(len(r[t])) for t in THRESHOLDS)}")
    x = ssd.preprocess(ssd.read_rgb(PROFILES[0]))
    traced = torch.jit.trace(det.model, x)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with torch.no_grad():
            for _ in range(3):
                traced(x)
            ms = []
            for _ in range(20):
                t0 = time.perf_counter()
                traced(x)
                ms.append((time.perf_counter() - t0) * 1000)
        print(f"== one 512x512 forward, {threads} thread(s): median {sorted(ms)[10]:.0f} ms, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
