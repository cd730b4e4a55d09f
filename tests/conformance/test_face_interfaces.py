"""Interfaces 4 (compare), 5 (detection), 6 (features), 7 (gender), 8 (age) over zmq."""
import math
import os

import pytest
from conftest import b64


def test_compare_same_and_different(server, images):
    same = server.request({"interface": "4", "api_key": "k", "image_base64": [images.obama1, images.obama2]})
    assert same["error_message"] == "501" and 70 <= same["score"] <= 100
    diff = server.request({"interface": "4", "api_key": "k", "image_base64": [images.obama1, images.biden]})
    assert diff["error_message"] == "502" and 0 <= diff["score"] < 70


def test_compare_errors(server, images):
    r = lambda imgs: server.request({"interface": "4", "api_key": "k", "image_base64": imgs})["error_message"]  # noqa
    assert r([images.obama1]) == "10005"
    assert r([images.obama1, images.obama1, images.obama1]) == "10005"
    assert r([images.obama1, images.building]) == "10002"
    assert r([images.obama1, "!!"]) == "10007"
    assert r([images.obama1, 12]) == "10005"


def test_detect_reply_fields_and_types(server, images):
    reply = server.request({"interface": "5", "api_key": "k", "image_base64": images.group, "minface_size": 40})
    assert reply["error_message"] == "601"
    assert reply["detect_nums"] == reply["face_nums"] == len(reply["detect"]) == 3
    scores = [f["score"] for f in reply["detect"]]
    assert scores == sorted(scores, reverse=True)
    for f in reply["detect"]:
        for k in ("left", "top", "width", "height"):
            assert isinstance(f[k], int) and f[k] >= 0
        assert len(f["landmark"]["x"]) == len(f["landmark"]["y"]) == 5
        assert f["sideFace"] in (0, 1) and f["quality"] in (0, 1) and f["glasses"] in (0, 1)
        assert 0 <= f["blur"] <= 1 and 0 <= f["illu"] <= 255 and 0 < f["score"] <= 1
        assert all(math.isfinite(f[k]) for k in ("pitch", "yaw", "roll"))
        assert "male" not in f


def test_detect_classify_gender_and_age(server, images):
    reply = server.request({"interface": "5", "api_key": "k", "image_base64": images.obama1,
                            "classify": "gender,age"})
    f = reply["detect"][0]
    assert f["male"] > 0.5 and abs(f["male"] + f["female"] - 1) < 1e-4
    assert f["age"] == "adult" and f["age_years"] > 20


def test_detect_min_max_and_portrait(server, images):
    r = lambda **kw: server.request(dict({"interface": "5", "api_key": "k", "image_base64": images.obama1}, **kw))  # noqa
    assert r(minface_size=20, maxface_size=100)["error_message"] == "10002"  # the face is ~240 px
    assert r(field="portrait")["detect_nums"] == 1
    assert r(minface_size=300, maxface_size=100)["error_message"] == "10005"
    assert r(minface_size="80")["error_message"] == "10005"
    assert r(field="selfie")["error_message"] == "10005"
    assert r(classify="shoes")["error_message"] == "10005"


def test_detect_errors(server, images):
    r = lambda img: server.request({"interface": "5", "api_key": "k", "image_base64": img})["error_message"]  # noqa
    assert r(images.building) == "10002"
    assert r("data:image/jpeg;base64," + images.obama1) == "601"
    assert r("not-base64!") == "10007"
    assert r("aGVsbG8=") == "10007"  # base64 of "hello": not an image
    assert r([images.obama1]) == "10005"


def test_features(server, images):
    reply = server.request({"interface": "6", "api_key": "k", "image_base64": [images.obama1, images.biden]})
    assert reply["error_message"] == "701" and reply["dimension"] == 320  # the accurate descriptor: MobileFaceNet 192 + dlib 128
    assert len(reply["feature"]) == 2
    for f in reply["feature"]:
        assert len(f) == 320 and abs(math.sqrt(sum(v * v for v in f)) - 1) < 1e-3
    r = lambda **kw: server.request(dict({"interface": "6", "api_key": "k"}, **kw))["error_message"]  # noqa
    assert r(image_base64=[]) == "10009"
    assert r(image_base64=[images.obama1, images.building]) == "10002"
    assert r(image_base64=images.obama1) == "10005"
    lm = {"x": [444, 549, 499, 434, 558], "y": [218, 217, 281, 322, 320]}
    assert r(image_base64=[images.building], landmarks=[lm]) == "701"


def test_gender_and_age(server, images):
    g = server.request({"interface": "7", "api_key": "k", "image_base64": [images.obama1, images.biden]})
    assert g["error_message"] == "801" and len(g["gender"]) == 2
    assert all(abs(x["Female"] + x["Male"] - 1) < 1e-4 and x["Male"] > 0.5 for x in g["gender"])
    a = server.request({"interface": "8", "api_key": "k", "image_base64": [images.obama1]})
    assert a["error_message"] == "901" and a["age"] == ["adult"] and a["age_years"][0] > 20
    assert server.request({"interface": "7", "api_key": "k", "image_base64": [images.building]})[
        "error_message"] == "10002"
    assert server.request({"interface": "8", "api_key": "k", "image_base64": []})["error_message"] == "10009"


def test_pedestrians_on_their_own_port(server, shared_data):
    import base64
    with open(os.path.join(shared_data, "pedestrians-pennfudan", "PNGImages", "FudanPed00042.png"), "rb") as f:
        img = base64.b64encode(f.read()).decode()
    reply = server.request({"interface": "10", "api_key": "k", "image1_base64": img}, endpoint=server.pedestrian)
    assert reply["error_message"] == "1101" and reply["person_nums"] == len(reply["result"]) >= 2
    for box in reply["result"]:
        assert set(box) == {"left", "top", "width", "height"} and all(isinstance(v, int) for v in box.values())
    r = lambda **kw: server.request(dict({"interface": "10", "api_key": "k"}, **kw),  # noqa: E731
                                    endpoint=server.pedestrian)["error_message"]
    assert r(image1_base64="/usr/share/doc/opencv-doc/examples/data/building.jpg") == "10007"
    assert r() == "10005"
    with open("/usr/share/doc/opencv-doc/examples/data/building.jpg", "rb") as f:
        empty = server.request({"interface": "10", "api_key": "k", "image1_base64": base64.b64encode(f.read()).decode()},
                               endpoint=server.pedestrian)
    assert empty["error_message"] == "1101" and empty["person_nums"] == 0 and empty["result"] == []


def test_face_interfaces_are_not_on_the_pedestrian_port(server, images):
    reply = server.request({"interface": "5", "api_key": "k", "image_base64": images.obama1},
                           endpoint=server.pedestrian)
    assert reply["error_message"] == "10005"


def test_detect_reports_the_kind_of_glasses(server, shared_data, images):
    kinds = {}
    for kind, name in (("sunglasses", "celebahq-10037.jpg"), ("eyeglasses", "celebahq-10300.jpg")):
        img = b64(os.path.join(shared_data, "glasses-dev", kind, name))
        face = server.request({"interface": "5", "api_key": "k", "image_base64": img})["detect"][0]
        kinds[kind] = (face["glasses"], face.get("glasses_kind"))
    assert kinds == {"sunglasses": (1, "sunglasses"), "eyeglasses": (1, "eyeglasses")}
    plain = server.request({"interface": "5", "api_key": "k", "image_base64": images.obama1})["detect"][0]
    assert plain["glasses"] == 0 and "glasses_kind" not in plain
