"""facekit.Client drives every wired interface's success path and raises ProtocolError."""
import os

import pytest

import facekit


@pytest.fixture(scope="module")
def client(server):
    return facekit.Client(server.face, api_key="k", pedestrian_endpoint=server.pedestrian, timeout=60)


def test_client_round_trip(client, shared_data):
    dev = lambda rel: os.path.join(shared_data, "faces-dev", rel)  # noqa: E731
    assert client.register("501", "client", [dev("obama/obama1.jpg")])
    assert client.exists("501", "client") and not client.exists("502", "client")
    assert client.search("client", images=[dev("obama/obama2.jpg")])[0][0] == "501"
    feat = client.features([dev("obama/obama2.jpg")])[0]
    assert len(feat) == 320 and client.search("client", feature=feat)[0][0] == "501"
    score, same = client.compare(dev("obama/obama1.jpg"), dev("obama/obama2.jpg"))
    assert same and score >= 70
    faces = client.detect(dev("multi/obama_and_biden.jpg"), min_face=40, classify=["gender", "age"])
    assert len(faces) == 3 and all("male" in f for f in faces)
    assert client.gender([dev("obama/obama1.jpg")])[0]["Male"] > 0.5
    assert client.age([dev("obama/obama1.jpg")]) == ["adult"]
    assert client.count("client") == 1
    assert client.delete("501", "client") and client.count("client") == 0


def test_client_raises_protocol_errors(client, shared_data):
    with pytest.raises(facekit.ProtocolError) as err:
        client.detect("/usr/share/doc/opencv-doc/examples/data/building.jpg")
    assert err.value.code == 10002
    with pytest.raises(facekit.ProtocolError) as err:
        client.register("9", "client", ["/usr/share/doc/opencv-doc/examples/data/building.jpg"])
    assert err.value.code == 10002


def test_client_times_out_without_resending_registration():
    c = facekit.Client("tcp://127.0.0.1:9", api_key="k", timeout=0.3, retries=2)
    with pytest.raises(facekit.ProtocolTimeout) as err:
        c.register("1", "g", [b"\xff\xd8"])
    assert "not re-sent" in str(err.value)
