"""Recall near the bottom of the requested face range: the face-api sample group photos scaled
so their faces sit just above min_face, where the pyramid's finest level puts the smallest
wanted face at kMinFaceAtInput px (cpp/src/detect/pyramid.h). Used to choose that constant.

usage: python bench/accuracy/detection_edge.py
Ground truth and matching as bench/accuracy/detection.py (tests/data/sample_faces.json).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detection  # noqa: E402

import facekit  # noqa: E402

# (scale of the photos, min_face): median faces of 31-204 px, min_face just under most of them.
ROWS = [(0.15, 20), (0.2, 30), (0.2, 40), (0.25, 40), (0.3, 50), (0.35, 60), (0.5, 80), (0.4, 80),
        (1.0, 80), (1.0, 150)]


def main():
    eng = facekit.Engine()
    print("| photos scaled by | median face px | min_face / max_face | recall | precision | median ms per photo |")
    print("|---|---|---|---|---|---|")
    found = total = 0
    for scale, min_face in ROWS:
        tp, n_gt, n_det, size, ms = detection.run(eng, scale, min_face, 400)
        found, total = found + tp, total + n_gt
        print(f"| {scale} | {size:.0f} | {min_face} / 400 | {tp}/{n_gt} | {tp}/{n_det} | {ms:.0f} |", flush=True)
    print(f"all rows: {found}/{total} faces found")


if __name__ == "__main__":
    main()
