"""Writes the calibration set of the int8 dlib ResNet (models/calibration/face_recognition.json):
every face facekit finds in face-api's demo photos (MIT, in the pinned npm package), as the
affine map from a 150 px chip to the photo that the engine's dlib crop uses
(cpp/src/analyze/dlib_descriptor.cpp dlib_crop: face-api's alignDlib box). The converter warps
the photos with these maps; it needs no engine, and the repository holds no pictures.

usage: .venv/bin/python models/calibration/make.py   (after scripts/setup)
"""
import glob
import json
import re
import os

import cv2
import numpy as np

import facekit

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "@vladmandic/face-api@1.7.15"
SIDE = 150
EYE_MOUTH_TO_SIDE, LEFT_OF_CENTRE, ABOVE_CENTRE = 1 / 0.45, 0.5, 0.43


def chip_to_photo(landmarks):
    """The engine's dlib_crop geometry: chip pixel (u, v) -> photo pixel."""
    l = np.asarray(landmarks, np.float64)
    le, re, mouth = l[0], l[1], (l[3] + l[4]) / 2
    side = 0.5 * (np.linalg.norm(mouth - le) + np.linalg.norm(mouth - re)) * EYE_MOUTH_TO_SIDE
    centre = (le + re + mouth) / 3
    k = side / SIDE
    return [[k, 0.0, centre[0] - LEFT_OF_CENTRE * side], [0.0, k, centre[1] - ABOVE_CENTRE * side]]


def main():
    packages = os.environ.get("FACEKIT_PACKAGES", os.path.expanduser("~/.cache/facekit/packages"))
    root = os.path.join(packages, PACKAGE.replace("/", "_"), "package")
    engine = facekit.Engine()
    chips = []
    for path in sorted(glob.glob(os.path.join(root, "demo", "sample*.jpg"))):
        rel = os.path.relpath(path, root)
        for face in engine.detect(cv2.imread(path)):
            m = [[round(v, 3) for v in row] for row in chip_to_photo(face.landmarks)]
            chips.append({"image": rel, "chip_to_photo": m})
    out = {"package": PACKAGE, "side": SIDE, "made_by": "models/calibration/make.py", "chips": chips}
    with open(os.path.join(HERE, "face_recognition.json"), "w") as f:  # one chip a line
        text = json.dumps(out, indent=1)
        f.write(re.sub(r"\{\s+\"image[^}]*\}", lambda m: json.dumps(json.loads(m.group(0))), text) + "\n")
    print(f"{len(chips)} chips from {PACKAGE} demo photos")


if __name__ == "__main__":
    main()
