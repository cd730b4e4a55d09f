"""Every converted model against TF.js (pure JS CPU backend in Node): real photos + a random
tensor, max |diff| <= 1e-3 of the output's range and cosine >= 0.9999 (models/tfjs2torch/parity.py)."""
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models"))

from tfjs2torch import parity  # noqa: E402

CATALOG = json.load(open(os.path.join(ROOT, "models", "catalog.json")))["models"]
PACKAGES = os.environ.get("FACEKIT_PACKAGES", os.path.expanduser("~/.cache/facekit/packages"))
IMAGES = ["faces-dev/obama/obama1.jpg", "faces-dev/biden/biden1.jpg",
          "pedestrians-pennfudan/PNGImages/FudanPed00042.png"]


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_parity_with_tfjs(name, shared_data):
    import facekit
    images = [os.path.join(shared_data, p) for p in IMAGES]
    results = parity.check_model(name, CATALOG[name], PACKAGES, facekit.model_dir(), images)
    assert len(results) == len(CATALOG[name]["outputs"]) * (len(images) + 1)
    bad = [r for r in results if not r["ok"]]
    assert not bad, bad
