"""Glasses and their kind on real labelled faces (glasses-dev, CelebA-HQ; the classifier was
fitted on these photos, docs/ACCURACY.md has the cross-validated figures)."""
import glob
import os

import pytest

import facekit

KINDS = {"eyeglasses": "eyeglasses", "sunglasses": "sunglasses", "no_glasses": "none"}


@pytest.fixture(scope="module")
def engine():
    return facekit.Engine()


@pytest.mark.parametrize("folder", sorted(KINDS))
def test_glasses_kind_on_labelled_faces(engine, shared_data, folder):
    paths = sorted(glob.glob(os.path.join(shared_data, "glasses-dev", folder, "*.jpg")))[::8]
    assert len(paths) >= 8
    right = 0
    for p in paths:
        faces = engine.detect(p)
        assert len(faces) == 1, p
        f = faces[0]
        assert f.glasses == (f.glasses_kind != "none")
        right += f.glasses_kind == KINDS[folder]
    assert right >= 0.85 * len(paths), f"{right} of {len(paths)}"
