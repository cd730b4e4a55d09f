"""Keys and authorisation (10001, 10010), rate limits (10008), precedence, durability
(kill -9 right after 101), many concurrent clients, and the index settings of the config."""
import json
import re
import threading

import pytest
import zmq

from conftest import Server


def test_restricted_key_gets_10010_outside_its_interfaces_and_groups(keyed_server):
    r = lambda **kw: keyed_server.request(dict({"api_key": "k-reader"}, **kw))["error_message"]  # noqa: E731
    assert r(interface="12", group_id="visible") == "1301"
    assert r(interface="3", group_id="visible", face_id="1") == "402"
    assert r(interface="3", group_id="hidden", face_id="1") == "10010"
    assert r(interface="12") == "10010"  # all groups: more than it may see
    assert r(interface="6", image_base64=[]) == "10010"


def test_precedence_key_then_authorisation_then_parameters(keyed_server):
    r = lambda msg: keyed_server.request(msg)["error_message"]  # noqa: E731
    assert r(b"{bad") == "10006"
    assert r({"interface": "3", "api_key": "nope", "group_id": 5}) == "10001"
    assert r({"interface": "3", "api_key": "k-reader", "group_id": "hidden", "face_id": 7}) == "10010"
    assert r({"interface": "3", "api_key": "k-reader", "group_id": "visible", "face_id": 7}) == "10005"


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory):
    s = Server(str(tmp_path_factory.mktemp("limited")), max_requests=5, register_factor=1, pool_size=2,
               max_request_bytes=100000)
    yield s
    s.stop()


def burst(server, msg, n):
    sock = server.ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 20000)
    sock.connect(server.face)
    for _ in range(n):
        sock.send(json.dumps(msg).encode())
    codes = [json.loads(sock.recv())["error_message"] for _ in range(n)]
    sock.close()
    return codes


def test_burst_above_the_limit_gets_10008_and_the_rest_is_served(limited_server):
    codes = burst(limited_server, {"interface": "4", "api_key": "k"}, 30)
    assert codes.count("10008") >= 20
    assert set(codes) <= {"10008", "10005"} and "10005" in codes


def test_register_has_its_own_limit(limited_server):
    codes = burst(limited_server, {"interface": "0", "api_key": "k"}, 10)
    assert "10008" in codes and "10005" in codes


def test_unlimited_interfaces_are_never_limited(limited_server):
    codes = burst(limited_server, {"interface": "3", "api_key": "k", "group_id": "g", "face_id": "1"}, 40)
    assert codes == ["402"] * 40


def test_within_the_limit_nothing_is_refused(limited_server):
    import time
    time.sleep(1.2)  # refill
    codes = burst(limited_server, {"interface": "5", "api_key": "k"}, 3)
    assert codes == ["10005"] * 3


def test_request_over_the_size_limit_is_10005(limited_server):
    big = {"interface": "3", "api_key": "k", "group_id": "g", "face_id": "1", "padding": "x" * 200000}
    assert limited_server.request(big)["error_message"] == "10005"
    assert limited_server.request(dict(big, padding="x"))["error_message"] == "402"


def test_acknowledged_registration_survives_kill_9(tmp_path, images):
    s = Server(str(tmp_path))
    try:
        reply = s.request({"interface": "0", "api_key": "k", "face_id": ["77"], "group_id": ["dur"],
                           "image_base64": [[images.obama1]]})
        assert reply["error_message"] == "101"
        s.kill9()  # no shutdown: the process is gone right after its reply
        s.start()
        assert s.request({"interface": "3", "api_key": "k", "group_id": "dur", "face_id": "77"})[
            "error_message"] == "401"
        hits = s.request({"interface": "1", "api_key": "k", "group_id": "dur", "score": 70, "topk": 1,
                          "image_base64": [images.obama2]})
        assert hits["face_id"] == ["77"]
    finally:
        s.stop()


def test_sixteen_clients_hundred_requests_each(server):
    errors = []

    def client(n):
        sock = server.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, 30000)
        sock.connect(server.face)
        for i in range(100):
            fid = str(n * 1000 + i)
            sock.send(json.dumps({"interface": "3", "api_key": "k", "group_id": f"c{n}", "face_id": fid}).encode())
            reply = json.loads(sock.recv())
            if reply["error_message"] != "402":
                errors.append(reply)
        sock.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_index_settings_come_from_the_config_and_a_restart_loads_the_snapshot(tmp_path, images):
    s = Server(str(tmp_path), hnsw_m=8, hnsw_ef_construction=40, hnsw_ef_search=12)
    try:
        reply = s.request({"interface": "0", "api_key": "k", "face_id": ["5"], "group_id": ["snap"],
                           "image_base64": [[images.obama1]]})
        assert reply["error_message"] == "101"
        s.proc.send_signal(2)  # a clean stop writes the index snapshot
        assert s.proc.wait(30) == 0
        s.log.close()
        s.start()
        s.log.seek(0)
        log = s.log.read()
        assert "HNSW M 8, ef_construction 40, ef_search 12" in log
        assert "1 groups from snapshot, 0 rows replayed, 0 rows indexed" in log  # the second start
        assert re.search(r"distance kernel (avx2-fma-f16c|portable)", log)
        hits = s.request({"interface": "1", "api_key": "k", "group_id": "snap", "score": 70, "topk": 1,
                          "image_base64": [images.obama2]})
        assert hits["face_id"] == ["5"]
    finally:
        s.stop()


def test_quick_requests_answer_the_same_through_the_workers(tmp_path, images):
    """inline_quick_requests=false: search by feature, query and counts go through the worker
    pool instead of the endpoint's thread, with the same answers."""
    s = Server(str(tmp_path), inline_quick_requests=False)
    try:
        assert s.request({"interface": "0", "api_key": "k", "face_id": ["5"], "group_id": ["q"],
                          "image_base64": [[images.obama1]]})["error_message"] == "101"
        feat = s.request({"interface": "6", "api_key": "k", "image_base64": [images.obama2]})["feature"][0]
        hits = s.request({"interface": "1", "api_key": "k", "group_id": "q", "score": 70, "topk": 1,
                          "field": "feature", "feature": feat})
        assert hits["face_id"] == ["5"]
        assert s.request({"interface": "3", "api_key": "k", "group_id": "q", "face_id": "5"})["error_message"] == "401"
        assert s.request({"interface": "12", "api_key": "k", "group_id": "q"})["reg_nums"] == 1
    finally:
        s.stop()
