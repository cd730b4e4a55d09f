"""Gender and age of the 80 UTK chips by two engine paths, in one run.

usage: .venv/bin/python bench/accuracy/attribute_paths.py

1. largest_face(image, attributes=True): from the face's own mesh (the server's interfaces 7
   and 8 since 2026-11-30, and pose_attributes.py).
2. attributes(image, largest_face(image).landmarks): the face re-meshed from its 5 points (the
   server's path before).
The chips are used as they are (pose_attributes.py pads them first).
"""
import glob
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import facekit  # noqa: E402


def main():
    eng = facekit.Engine()
    paths = sorted(glob.glob(os.path.join(datasets.SHARED, "age-gender-utk", "*.jpg")))
    paths_of = {
        "largest_face(image, attributes=True)": lambda img: eng.largest_face(img, attributes=True).attributes,
        "attributes(image, 5 points)": lambda img: eng.attributes(img, eng.largest_face(img).landmarks),
    }
    print("| path | chips | age MAE | gender accuracy |\n|---|---|---|---|")
    for label, attributes in paths_of.items():
        errors, right = [], 0
        for p in paths:
            age, gender = map(int, os.path.basename(p).split("_")[:2])  # UTK: gender 0 = male
            a = attributes(cv2.imread(p))
            errors.append(abs(a.age_years - age))
            right += (a.male > 0.5) == (gender == 0)
        print(f"| {label} | {len(paths)} | {np.mean(errors):.2f} | {right / len(paths):.3f} |")


if __name__ == "__main__":
    main()
