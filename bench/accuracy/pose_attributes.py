"""Head pose (AFLW2000-3D subset) and age / gender / kid accuracy (UTKFace sample) of the
engine on real labelled photos from shared/data.

usage: python bench/accuracy/pose_attributes.py
Pose: mean absolute error in degrees over faces with |yaw| <= 60 (the mesh's working
range) and over all detected, on the dev half, the test half and all of the set. Split: the
rows of pose_degrees.csv sorted by file name, even positions (0, 2, 4, ...) dev, odd test;
the pose's fitted constants (cpp/src/analyze/quality.cpp) were fitted on dev only.
Attributes: faceres heads (gender sigmoid, HSE age decode).
"""
import csv
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import facekit  # noqa: E402


def pose(eng):
    base = os.path.join(datasets.SHARED, "head-pose")
    rows = sorted(csv.DictReader(open(os.path.join(base, "pose_degrees.csv"))), key=lambda r: r["file"])
    errs, missed = [], 0
    for i, r in enumerate(rows):
        img = datasets.load(os.path.join(base, "images", r["file"]))
        try:
            q = eng.largest_face(img).quality
        except facekit.FacekitError:
            missed += 1
            continue
        if np.isnan(q.yaw):  # a side view found by the side-view detector: no pose (docs/ENGINE.md)
            missed += 1
            continue
        truth = np.array(datasets.aflw_pose(r))
        errs.append(("dev" if i % 2 == 0 else "test", truth, np.array([q.yaw, q.pitch, q.roll])))
    return errs, missed, len(rows)


def attributes(eng):
    out = []
    for p in sorted(glob.glob(os.path.join(datasets.SHARED, "age-gender-utk", "*.jpg"))):
        age, gender = (int(x) for x in os.path.basename(p).split("_")[:2])
        img = datasets.load(p, 0, 0.3)
        try:
            a = eng.largest_face(img, attributes=True).attributes
        except facekit.FacekitError:
            out.append((age, gender, None))
            continue
        out.append((age, gender, a))
    return out


def main():
    eng = facekit.Engine()
    errs, missed, total = pose(eng)
    n_dev = sum(h == "dev" for h, _, _ in errs)
    print(f"Head pose, AFLW2000-3D subset: {len(errs)}/{total} faces detected "
          f"(dev {n_dev}/{(total + 1) // 2}, test {len(errs) - n_dev}/{total // 2})")
    print("| half | subset | faces | yaw MAE | pitch MAE | roll MAE |\n|---|---|---|---|---|---|")
    for half in ("dev", "test", "all"):
        for label, keep in [("\\|yaw\\| <= 60", lambda t: abs(t[0]) <= 60), ("all detected", lambda t: True)]:
            sel = [(t, p) for h, t, p in errs if keep(t) and half in (h, "all")]
            if not sel:
                continue
            mae = np.mean([np.abs(t - p) for t, p in sel], axis=0)
            print(f"| {half} | {label} | {len(sel)} | {mae[0]:.1f} | {mae[1]:.1f} | {mae[2]:.1f} |")
    res = attributes(eng)
    found = [(a, g, r) for a, g, r in res if r is not None]
    mae = np.mean([abs(r.age_years - a) for a, g, r in found])
    gender = np.mean([(r.male >= 0.5) == (g == 0) for a, g, r in found])
    kid = np.mean([r.kid == (a < 14) for a, g, r in found])
    print(f"\nAge / gender, UTKFace sample: {len(found)}/{len(res)} faces detected")
    print("| measure | value |\n|---|---|")
    print(f"| age MAE (years) | {mae:.2f} |\n| gender accuracy | {gender:.3f} |\n| kid (< 14) / adult accuracy | {kid:.3f} |")


if __name__ == "__main__":
    main()
