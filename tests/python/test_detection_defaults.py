"""Engine.detect's defaults on real photos at the sizes people give it, and the age / gender
the engine reports (face-api's age, gender fused with faceres's)."""
import glob
import os

import cv2
import numpy as np
import pytest

import facekit


@pytest.fixture(scope="module")
def engine():
    return facekit.Engine()


@pytest.mark.parametrize("folder", ["age-gender-utk", "faces-large/face"])
def test_every_chip_and_headshot_is_one_face_with_the_defaults(engine, shared_data, folder):
    """Tight 200 px chips (the face fills them) and 1024 px headshots: exactly one face each,
    inside the image, with Engine.detect's defaults (every face from 20 px, no maximum)."""
    files = sorted(glob.glob(os.path.join(shared_data, folder, "*.jpg")))
    assert len(files) >= 50
    wrong = []
    for path in files:
        img = cv2.imread(path)
        faces = engine.detect(img)
        if len(faces) != 1:
            wrong.append((os.path.basename(path), len(faces)))
            continue
        b = faces[0].box  # clamped to the image (float sums: a thousandth of slack)
        assert b.left >= 0 and b.top >= 0
        assert b.left + b.width <= img.shape[1] + 1e-3 and b.top + b.height <= img.shape[0] + 1e-3
    assert not wrong, wrong


def test_age_and_gender_of_the_utk_chips(engine, shared_data):
    """80 labelled chips: face-api's age (faceres alone: MAE 7.6) and the fused gender."""
    errors, right = [], []
    for path in sorted(glob.glob(os.path.join(shared_data, "age-gender-utk", "*.jpg"))):
        age, gender = (int(x) for x in os.path.basename(path).split("_")[:2])
        a = engine.largest_face(path, attributes=True).attributes
        errors.append(abs(a.age_years - age))
        right.append((a.male >= 0.5) == (gender == 0))
    assert len(errors) == 80
    assert np.mean(errors) < 5.5
    assert np.mean(right) >= 0.9
