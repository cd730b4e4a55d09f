"""Every converted model against its reference runtime in Node (TF.js's pure JS CPU backend, or
Google's TFLite WASM runtime for a TFLite file): real photos + a random tensor, and ArcFace-aligned
face chips for the descriptors that take them, max |diff| <= 1e-3 of the output's range and
cosine >= 0.9999; the int8 model on real face chips (not its calibration photos), cosine >= its
catalog bound (models/tfjs2torch/parity.py)."""
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models"))
sys.path.insert(0, os.path.join(ROOT, "models", "calibration"))

from make import chip_to_photo  # noqa: E402
from tfjs2torch import parity  # noqa: E402

CATALOG = json.load(open(os.path.join(ROOT, "models", "catalog.json")))["models"]
PACKAGES = os.environ.get("FACEKIT_PACKAGES", os.path.expanduser("~/.cache/facekit/packages"))
IMAGES = ["faces-dev/obama/obama1.jpg", "faces-dev/biden/biden1.jpg",
          "pedestrians-pennfudan/PNGImages/FudanPed00042.png"]
CHIP_PHOTOS = ["faces-dev/obama/obama1.jpg", "faces-dev/biden/biden1.jpg", "faces-dev/multi/two_people.jpg",
               "faces-dev/bbt/bbt1.jpg", "faces-dev/bbt/bbt4.jpg"]


# insightface's 5-point template for 112 x 112 chips (eyes, nose tip, mouth corners)
ARCFACE_112 = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]


def face_chips(shared_data, side, arcface=False):
    """Every face facekit finds in CHIP_PHOTOS, cut as the engine cuts dlib's chip, or
    `arcface`: warped by the similarity that best maps its 5 points onto ARCFACE_112 (scaled to side)."""
    import cv2
    import numpy as np

    import facekit
    engine = facekit.Engine()
    chips = []
    for rel in CHIP_PHOTOS:
        bgr = cv2.imread(os.path.join(shared_data, rel))
        for face in engine.detect(bgr):
            if arcface:
                template = np.float32(ARCFACE_112) * side / 112
                m = cv2.estimateAffinePartial2D(np.float32(face.landmarks), template, method=cv2.LMEDS)[0]
                chips.append(cv2.warpAffine(bgr, m, (side, side), flags=cv2.INTER_LINEAR))
            else:
                m = np.array(chip_to_photo(face.landmarks), np.float64)
                chips.append(cv2.warpAffine(bgr, m, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP))
    return chips


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_parity_with_tfjs(name, shared_data):
    import facekit
    quantized = "quantized" in CATALOG[name]
    if quantized:
        images = face_chips(shared_data, CATALOG[name]["input"]["shape"][1])
        assert len(images) >= 10
    else:
        images = [os.path.join(shared_data, p) for p in IMAGES]
        if CATALOG[name].get("alignment", "").startswith("ArcFace"):
            images += face_chips(shared_data, CATALOG[name]["input"]["shape"][1], arcface=True)
    results = parity.check_model(name, CATALOG[name], PACKAGES, facekit.model_dir(), images)
    assert len(results) == len(CATALOG[name]["outputs"]) * (len(images) + (0 if quantized else 1))
    bad = [r for r in results if not r["ok"]]
    assert not bad, bad
