"""The Python face of the model runtime: listing, loading, running real photos, errors."""
import os
import shutil

import cv2
import numpy as np
import pytest

import facekit

EXPECTED = {"blazeface-back", "facemesh", "iris", "faceres", "mobileface", "antispoof", "liveness", "nanodet", "selfie"}


@pytest.fixture(scope="module")
def runtime():
    return facekit.ModelRuntime()


def test_models_lists_the_manifest_with_provenance():
    rows = {m["name"]: m for m in facekit.models()}
    assert EXPECTED <= set(rows)
    for m in rows.values():
        assert len(m["sha256"]) == 64
        assert m["package"].startswith("@vladmandic/")
        assert m["package_licence"] == "MIT"
        assert m["weights_licence"]
        assert m["bytes"] > 100_000
    assert rows["faceres"]["colour"] == "BGR"
    assert rows["faceres"]["mean"] == pytest.approx([103.939, 116.779, 123.68])
    assert rows["nanodet"]["layout"] == "NCHW"


def test_every_model_runs_on_a_real_photo(runtime, shared_data):
    img = cv2.imread(os.path.join(shared_data, "faces-dev", "obama", "obama1.jpg"))
    for m in runtime.models():
        outs = runtime.run(m["name"], runtime.prepare_input(m["name"], img))
        assert len(outs) == len(m["outputs"]), m["name"]
        for o in outs:
            assert o.shape[0] == 1 and np.isfinite(o).all(), m["name"]


def test_descriptor_separates_people(runtime, shared_data):
    """Whole-photo faceres descriptors: same person closer than two different people."""
    def desc(rel):
        img = cv2.imread(os.path.join(shared_data, "faces-dev", rel))
        v = runtime.run("faceres", runtime.prepare_input("faceres", img))[0][0]
        return v / np.linalg.norm(v)
    a, b, c = desc("obama/obama1.jpg"), desc("obama/obama2.jpg"), desc("biden/biden1.jpg")
    assert a @ b > a @ c


def test_wrong_input_shape_raises_with_protocol_code(runtime):
    with pytest.raises(facekit.FacekitError) as err:
        runtime.run("faceres", np.zeros((1, 10, 10, 3), np.float32))
    assert err.value.code == "invalid_argument"
    assert err.value.protocol_code == 10005


def test_unknown_model_raises(runtime):
    with pytest.raises(facekit.FacekitError) as err:
        runtime.run("nope", np.zeros((1, 10, 10, 3), np.float32))
    assert err.value.code == "not_found"


def test_missing_model_dir_names_the_manifest(tmp_path):
    with pytest.raises(facekit.FacekitError) as err:
        facekit.ModelRuntime(str(tmp_path / "none"))
    assert err.value.code == "model_unavailable"
    assert "manifest.json" in str(err.value)


def test_corrupt_model_fails_checksum(tmp_path):
    src = facekit.model_dir()
    for name in os.listdir(src):
        shutil.copy(os.path.join(src, name), tmp_path / name)
    with open(tmp_path / "antispoof.pt", "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x01\x02")
    with pytest.raises(facekit.FacekitError) as err:
        facekit.ModelRuntime(str(tmp_path), warm_up=False)
    assert "antispoof.pt" in str(err.value)
