"""Transport and common-envelope rules of shared/spec/interfaces.md."""
import json
import re

import zmq

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def dealer(server):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 10000)
    sock.connect(server.face)
    return sock


def test_every_reply_carries_request_id_time_used_and_error_message(server):
    reply = server.request({"interface": "99", "api_key": "x"})
    assert UUID4.match(reply["request_id"])
    assert isinstance(reply["time_used"], int) and reply["time_used"] >= 0
    assert isinstance(reply["error_message"], str)


def test_request_ids_are_fresh(server):
    ids = {server.request(b"x")["request_id"] for _ in range(5)}
    assert len(ids) == 5


def test_not_json_is_10006(server):
    assert server.request(b"{not json")["error_message"] == "10006"


def test_json_that_is_not_an_object_is_10006(server):
    assert server.request(b"[1, 2]")["error_message"] == "10006"
    assert server.request(b'"text"')["error_message"] == "10006"


def test_unknown_or_mistyped_interface_is_10005(server):
    for bad in ["13", "-1", "abc", "", "05", 5, None]:
        assert server.request({"interface": bad, "api_key": "x"})["error_message"] == "10005", bad
    assert server.request({"api_key": "x"})["error_message"] == "10005"


def test_dealer_clients_are_served(server):
    sock = dealer(server)
    sock.send(b"{oops")
    assert json.loads(sock.recv())["error_message"] == "10006"
    sock.close()


def test_pedestrian_port_answers(server):
    reply = server.request(b"nope", endpoint=server.pedestrian)
    assert reply["error_message"] == "10006"


def test_unknown_key_is_10001_when_keys_are_configured(keyed_server):
    assert keyed_server.request({"interface": "12", "api_key": "wrong"})["error_message"] == "10001"
    assert keyed_server.request({"interface": "12"})["error_message"] == "10001"
    assert keyed_server.request({"interface": "12", "api_key": 7})["error_message"] == "10001"


def test_bad_json_outranks_bad_key(keyed_server):
    assert keyed_server.request(b"{")["error_message"] == "10006"


def test_bad_key_outranks_bad_interface(keyed_server):
    assert keyed_server.request({"interface": "77", "api_key": "wrong"})["error_message"] == "10001"
    assert keyed_server.request({"interface": "77", "api_key": "k-beta"})["error_message"] == "10005"


def test_many_requests_each_answered_once(server):
    sock = dealer(server)
    for i in range(50):
        sock.send(json.dumps({"interface": "42", "n": i}).encode())
    replies = [json.loads(sock.recv()) for _ in range(50)]
    assert all(r["error_message"] == "10005" for r in replies)
    assert len({r["request_id"] for r in replies}) == 50
    sock.setsockopt(zmq.RCVTIMEO, 300)
    try:
        sock.recv()
        extra = True
    except zmq.Again:
        extra = False
    assert not extra
    sock.close()
