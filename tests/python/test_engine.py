"""facekit.Engine on real photos: the behaviours the engine issue lists."""
import os

import cv2
import numpy as np
import pytest

import facekit

OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"


@pytest.fixture(scope="module")
def engine():
    return facekit.Engine()


def path(shared_data, rel):
    return os.path.join(shared_data, "faces-dev", rel)


def test_finds_the_face_where_one_is(engine, shared_data):
    faces = engine.detect(path(shared_data, "obama/obama1.jpg"))
    assert len(faces) == 1
    f = faces[0]
    assert f.landmarks.shape == (5, 2) and f.mesh.shape == (468, 2)
    assert f.box.left < f.landmarks[0, 0] < f.landmarks[1, 0] < f.box.left + f.box.width
    assert 0.6 < f.score <= 1.0


def test_no_face_in_a_landscape_photo(engine):
    assert engine.detect(os.path.join(OPENCV_DATA, "building.jpg")) == []
    with pytest.raises(facekit.FacekitError) as err:
        engine.extract(os.path.join(OPENCV_DATA, "building.jpg"))
    assert err.value.protocol_code == 10002


def test_inputs_numpy_bgr_rgb_bytes_and_path_agree(engine, shared_data):
    p = path(shared_data, "obama/obama2.jpg")
    bgr = cv2.imread(p)
    from_path = engine.extract(p)
    # The same pixels: 1.0 on a quiet machine. Under load a model call runs on fewer threads,
    # which moves the detector's float rounding and so the 5 points by a hair; the int8 dlib
    # net turns that into cosines down to ~0.9999. Channels swapped read 0.95, so 0.999 still
    # tells a wrong decode apart.
    assert engine.cosine(from_path, engine.extract(bgr)) > 0.999
    assert engine.cosine(from_path, engine.extract(bgr[:, :, ::-1].copy(), rgb=True)) > 0.999
    assert engine.cosine(from_path, engine.extract(open(p, "rb").read())) > 0.999
    assert engine.cosine(from_path, engine.extract(bgr, rgb=True)) < 0.99  # the wrong order is seen


def test_same_image_compares_at_least_99(engine, shared_data):
    p = path(shared_data, "obama/obama1.jpg")
    assert engine.compare(p, p) >= 99


def test_two_people_of_one_group_photo_compare_below_threshold(engine, shared_data):
    img = cv2.imread(os.path.join(shared_data, "faces-dev", "multi", "obama_and_biden.jpg"))
    faces = engine.detect(img, min_face=40)
    feats = engine.extract_faces(img, [f.landmarks for f in faces])
    assert feats.shape == (len(faces), engine.dimension)
    for i in range(len(faces)):
        for j in range(i + 1, len(faces)):
            assert engine.compare(feats[i], feats[j]) < 70


def test_same_person_different_photos_above_threshold(engine, shared_data):
    assert engine.compare(path(shared_data, "obama/obama1.jpg"), path(shared_data, "obama/obama3.jpg")) >= 70


def test_extract_many_images_returns_rows(engine, shared_data):
    feats = engine.extract([path(shared_data, "obama/obama1.jpg"), path(shared_data, "biden/biden1.jpg")])
    assert feats.shape == (2, engine.dimension)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-4)


def test_landmarks_given_skip_detection(engine, shared_data):
    img = cv2.imread(path(shared_data, "obama/obama1.jpg"))
    lm = engine.largest_face(img).landmarks
    # extract(img) takes the 5 points from a cheaper detector pass than largest_face (the
    # same face, nearly the same descriptor); extract_batch without landmarks takes the same.
    assert engine.cosine(engine.extract(img, lm), engine.extract(img)) > 0.99
    assert engine.cosine(engine.extract_batch([img])[0], engine.extract(img)) > 0.999  # as in test_inputs_numpy_bgr_rgb_bytes_and_path_agree
    with pytest.raises(facekit.FacekitError) as err:
        engine.extract(img, np.zeros((5, 2)))
    assert err.value.protocol_code == 10005


def test_analyze_gives_gender_and_age(engine, shared_data):
    f = engine.analyze(path(shared_data, "obama/obama1.jpg"))[0]
    assert f.attributes.male > 0.5 and f.attributes.age_years > 25 and not f.attributes.kid


def test_bad_images_raise_10007(engine):
    with pytest.raises(facekit.FacekitError) as err:
        engine.detect(b"not an image")
    assert err.value.protocol_code == 10007
    with pytest.raises(facekit.FacekitError) as err:
        facekit._facekit.decode_base64("@@@")
    assert err.value.protocol_code == 10007


def test_wrong_array_shape_raises(engine):
    with pytest.raises(facekit.FacekitError):
        engine.detect(np.zeros((10, 10), np.uint8))


def test_only_face_raises_10002_and_10003(engine, shared_data):
    assert engine.only_face(path(shared_data, "obama/obama1.jpg")).score > 0.6
    with pytest.raises(facekit.FacekitError) as err:
        engine.only_face(os.path.join(shared_data, "faces-dev", "multi", "obama_and_biden.jpg"))
    assert err.value.protocol_code == 10003 and err.value.code == "multiple_faces"
    with pytest.raises(facekit.FacekitError) as err:
        engine.only_face(os.path.join(OPENCV_DATA, "building.jpg"))
    assert err.value.protocol_code == 10002
