"""The Python face of the model runtime: listing, loading, running real photos, errors; and
face-api's weights-only nets (rebuilt in torch) against face-api's own JS on real face crops."""
import glob
import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

import facekit

EXPECTED = {"blazeface-back", "facemesh", "iris", "faceres", "mobileface", "antispoof", "liveness", "nanodet", "selfie",
            "face_recognition", "age_gender", "mobilefacenet"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PINNED_PACKAGES = json.load(open(os.path.join(ROOT, "models", "catalog.json")))["packages"]
PACKAGES = os.environ.get("FACEKIT_PACKAGES", os.path.expanduser("~/.cache/facekit/packages"))
FACEAPI_NETS = ["face_recognition", "age_gender"]


@pytest.fixture(scope="module")
def runtime():
    return facekit.ModelRuntime()


def test_models_lists_the_manifest_with_provenance():
    rows = {m["name"]: m for m in facekit.models()}
    assert EXPECTED <= set(rows)
    for m in rows.values():
        assert len(m["sha256"]) == 64
        assert m["package"] in PINNED_PACKAGES
        assert m["package_licence"] == "MIT"
        assert m["weights_licence"]
        assert m["bytes"] > 100_000
    assert rows["faceres"]["colour"] == "BGR"
    assert rows["faceres"]["mean"] == pytest.approx([103.939, 116.779, 123.68])
    assert rows["nanodet"]["layout"] == "NCHW"
    for name in FACEAPI_NETS:
        assert rows[name]["package"] == "@vladmandic/face-api@1.7.15"
        assert rows[name]["colour"] == "RGB"
        assert rows[name]["mean"] == pytest.approx([122.782, 117.001, 104.298])
        assert rows[name]["scale"] == pytest.approx(1 / 255)
    assert rows["face_recognition"]["input_shape"] == [1, 150, 150, 3]
    assert rows["face_recognition"]["outputs"] == ["descriptor"]
    assert rows["age_gender"]["input_shape"] == [1, 112, 112, 3]
    assert rows["age_gender"]["outputs"] == ["age", "gender"]


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


_LOG_CALLS = """
import numpy as np, facekit
rt = facekit.ModelRuntime(warm_up=False)
rt.run("blazeface-back", np.zeros((1, 256, 512, 3), np.float32))
rt.run("iris", np.zeros((2, 64, 64, 3), np.float32))
"""


@pytest.mark.parametrize("value", ["1", "", "0"])
def test_model_call_log_names_each_call_only_when_asked(value):
    # FACEKIT_LOG_MODEL_CALLS (docs/CONFIGURATION.md): one stderr line per model call, read by
    # bench/engine/stages.py; unset, empty or "0" keeps stderr quiet.
    env = dict(os.environ, FACEKIT_LOG_MODEL_CALLS=value)
    done = subprocess.run([sys.executable, "-c", _LOG_CALLS], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [l.split() for l in done.stderr.splitlines() if l.startswith("facekit model ")]
    if value != "1":
        assert lines == []
        return
    assert [(l[2], l[3]) for l in lines] == [("blazeface-back", "1x256x512x3"), ("iris", "2x64x64x3")]
    assert all(l[5] == "ms" and float(l[4]) > 0 for l in lines)
    assert all(l[6] == "team" and int(l[7]) >= 1 for l in lines)


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


# --- face-api's weights-only nets -------------------------------------------------------

# MediaPipe FaceMesh points standing for the 68-point eyes (6 each) and lips (20).
_LEFT_EYE = [33, 160, 158, 133, 153, 144]
_RIGHT_EYE = [362, 385, 387, 263, 373, 380]
_LIPS = [61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181, 78, 82, 13, 312, 308, 317, 14, 87]


def dlib_crop(img, face, out=150):
    """face-api's alignDlib box from the mesh (eye centres, mouth centre; side = mean
    eye-to-mouth distance / 0.45, top-left = centroid - (0.5, 0.43) x side), BGR uint8."""
    m = face.mesh.astype(np.float64)
    le, re, mouth = m[_LEFT_EYE].mean(0), m[_RIGHT_EYE].mean(0), m[_LIPS].mean(0)
    side = (np.linalg.norm(mouth - le) + np.linalg.norm(mouth - re)) / 2 / 0.45
    x, y = (le + re + mouth) / 3 - np.array([0.5, 0.43]) * side
    k = side / out
    return cv2.warpAffine(img, np.array([[k, 0, x], [0, k, y]]), (out, out),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


def box_crop(img, face, out=112):
    """The face box grown by 20 % (face-api's age / gender crop is the landmarks' box + 20 %)."""
    b = face.box
    side = 1.2 * max(b.width, b.height)
    cx, cy = b.left + b.width / 2, b.top + b.height / 2
    k = side / out
    return cv2.warpAffine(img, np.array([[k, 0, cx - side / 2], [0, k, cy - side / 2]]), (out, out),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


@pytest.fixture(scope="module")
def engine():
    return facekit.Engine()


@pytest.fixture(scope="module")
def face_crops(engine, shared_data):
    """Real face crops: three UTKFace chips (girl, woman, old woman), a BBT crop, and
    facekit-made crops (dlib box / grown box) of two faces-dev photos."""
    utk = os.path.join(shared_data, "age-gender-utk")
    chips = [cv2.imread(os.path.join(utk, f)) for f in ("10_0_1_20170110225339066.jpg.chip.jpg",
                                                         "26_1_2_20170104022229597.jpg.chip.jpg",
                                                         "96_1_2_20170110183528193.jpg.chip.jpg")]
    chips.append(cv2.imread(os.path.join(shared_data, "faces-dev", "bbt", "penny", "penny1.png")))
    out = {"face_recognition": list(chips), "age_gender": list(chips)}
    for rel in ("obama/obama1.jpg", "biden/biden1.jpg"):
        img = cv2.imread(os.path.join(shared_data, "faces-dev", rel))
        face = engine.largest_face(img)
        out["face_recognition"].append(dlib_crop(img, face))
        out["age_gender"].append(box_crop(img, face))
    return out


@pytest.mark.parametrize("name", FACEAPI_NETS)
def test_faceapi_net_matches_faceapi_js_on_face_crops(name, face_crops):
    """The torch rebuild against face-api's own JS net (TF.js CPU backend in Node)."""
    sys.path.insert(0, os.path.join(ROOT, "models"))
    from tfjs2torch import parity
    entry = json.load(open(parity.CATALOG))["models"][name]
    results = parity.check_model(name, entry, PACKAGES, facekit.model_dir(), face_crops[name])
    assert len(results) == len(entry["outputs"]) * (len(face_crops[name]) + 1)
    bad = [r for r in results if not r["ok"]]
    assert not bad, bad
    assert min(r["cosine"] for r in results) >= 0.9999


def test_dlib_descriptor_separates_people(runtime, engine, shared_data):
    def desc(rel):
        img = cv2.imread(os.path.join(shared_data, "faces-dev", rel))
        crop = dlib_crop(img, engine.largest_face(img))
        v = runtime.run("face_recognition", runtime.prepare_input("face_recognition", crop))[0][0]
        return v / np.linalg.norm(v)
    a, b, c = desc("obama/obama1.jpg"), desc("obama/obama2.jpg"), desc("biden/biden1.jpg")
    assert a @ b > 0.93 > a @ c  # 0.93: about FAR 1e-3 on ORL (bench/accuracy/dlib_fusion.py)


def test_age_gender_on_utk_chips(runtime, shared_data):
    """All 80 UTKFace chips as they are: face-api measured MAE 4.7, gender 0.91 on them."""
    errs, right = [], []
    for p in sorted(glob.glob(os.path.join(shared_data, "age-gender-utk", "*.jpg"))):
        age, gender = (int(x) for x in os.path.basename(p).split("_")[:2])
        out = runtime.run("age_gender", runtime.prepare_input("age_gender", cv2.imread(p)))
        assert out[0].shape == (1, 1) and out[1].shape == (1, 2)
        assert out[1][0].sum() == pytest.approx(1.0, abs=1e-5)
        errs.append(abs(float(out[0][0, 0]) - age))
        right.append((out[1][0, 0] >= 0.5) == (gender == 0))
    assert len(errs) == 80
    assert np.mean(errs) < 6.5
    assert np.mean(right) >= 0.85
