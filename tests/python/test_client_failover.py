"""facekit.Client over several servers: failover, round robin, registration re-sending and
versions, against small fake servers (zmq ROUTER sockets in threads) that answer like
facekit_server or, to stand for a dead server, stay silent.

Timeouts: a client whose servers may answer gets PATIENT seconds, far beyond a loopback
round trip even on a busy machine; a short timeout only where every server it waits on is
silent by design. Nothing asserts how long a call took.
"""
import json
import threading
import time
import uuid

import pytest
import zmq

import facekit

PATIENT = 5.0  # per try, when a server that answers may be waited on
SHORT = 0.3  # per try, when every server waited on is silent


class FakeServer:
    """A ROUTER on a free loopback port, in its own thread; `received`: the request dicts."""

    def __init__(self, ctx, name, silent=False):
        self.name, self.silent = name, silent
        self.received = []
        self.version = 0  # this fake's registry version, sent with 0 and 2 once set > 0
        self._sock = ctx.socket(zmq.ROUTER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self.endpoint = "tcp://127.0.0.1:%d" % self._sock.bind_to_random_port("tcp://127.0.0.1")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)  # owns the socket now
        self._thread.start()

    def _serve(self):
        try:
            while not self._stop.is_set():
                if not self._sock.poll(50):
                    continue
                ident, data = self._sock.recv_multipart()
                msg = json.loads(data)
                self.received.append(msg)
                if not self.silent:
                    self._sock.send_multipart([ident, json.dumps(self.answer(msg)).encode()])
        finally:
            self._sock.close()

    def answer(self, msg):
        reply = {"request_id": str(uuid.uuid4()), "time_used": 0}
        interface = msg["interface"]
        if interface in ("0", "2") and self.version:
            self.version += 1
            reply["version"] = self.version
        if interface == "0":
            reply["error_message"] = "101"
        elif interface == "1":  # the server's name as the hit: tests see who answered
            reply.update(error_message="201", face_id=[self.name], score=[99.0])
        elif interface == "2":
            reply["error_message"] = "301"
        elif interface == "5":
            reply.update(error_message="601", detect_nums=0, face_nums=0, detect=[])
        elif interface == "9":
            reply.update(error_message="1001", lives="live")
        elif interface == "10":
            reply.update(error_message="1101", person_nums=0, result=[])
        elif interface == "12":
            reply.update(error_message="1301", reg_nums=len(self.received))
        else:
            reply["error_message"] = "10005"
        return reply

    def interfaces(self):
        return [m["interface"] for m in self.received]

    def stop(self):
        self._stop.set()
        self._thread.join(30)


def eventually(condition, seconds=30.0):
    """Wait for a condition that a server thread makes true (a silent server's receipt)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.01)


@pytest.fixture
def net():
    """net.server(name, silent=False) -> FakeServer; net.client(servers, **kw) -> Client."""
    ctx = zmq.Context()
    servers = []

    class Net:
        @staticmethod
        def server(name, silent=False):
            servers.append(FakeServer(ctx, name, silent))
            return servers[-1]

        @staticmethod
        def client(servers_, **kw):
            kw.setdefault("timeout", PATIENT)
            return facekit.Client([s.endpoint for s in servers_], api_key="k", context=ctx, **kw)

    yield Net
    for s in servers:
        s.stop()
    ctx.destroy(linger=0)


def test_endpoint_forms():
    one = facekit.Client("tcp://10.0.0.1:5559")
    assert one.endpoints == ["tcp://10.0.0.1:5559"] and one.endpoint == "tcp://10.0.0.1:5559"
    assert one.pedestrian_endpoint == "tcp://10.0.0.1:5561"
    three = facekit.Client("tcp://h1:5559, tcp://h2:5559,tcp://h3:6000")
    assert three.endpoints == ["tcp://h1:5559", "tcp://h2:5559", "tcp://h3:6000"]
    assert three.endpoint == "tcp://h1:5559"
    assert three.pedestrian_endpoints == ["tcp://h1:5561", "tcp://h2:5561", "tcp://h3:5561"]
    listed = facekit.Client(["tcp://h1:5559", "tcp://h2:5559"],
                            pedestrian_endpoint=["tcp://p:1", "tcp://p:2"])
    assert listed.endpoints == ["tcp://h1:5559", "tcp://h2:5559"]
    assert listed.pedestrian_endpoints == ["tcp://p:1", "tcp://p:2"]
    same_host = facekit.Client(["tcp://h:5559", "tcp://h:6559"])
    assert same_host.pedestrian_endpoints == ["tcp://h:5561"]
    with pytest.raises(ValueError):
        facekit.Client([])


def test_single_endpoint_unchanged(net):
    srv = net.server("a")
    c = facekit.Client(srv.endpoint, api_key="k", timeout=PATIENT, pedestrian_endpoint=srv.endpoint)
    assert c.register("1", "staff", [b"\xff\xd8"]) is True
    assert c.search("staff", feature=[0.5, 0.5]) == [("a", 99.0)]
    assert c.delete("1", "staff") is True
    assert c.pedestrians(b"\xff\xd8") == []
    assert c.count() == 5
    assert srv.interfaces() == ["0", "1", "2", "10", "12"]
    assert all(m["api_key"] == "k" for m in srv.received)
    assert "min_version" not in srv.received[1] and c.versions == {}


def test_single_silent_endpoint_retries_idempotent_but_not_registration(net):
    srv = net.server("dead", silent=True)
    c = net.client([srv], timeout=SHORT, retries=1)
    with pytest.raises(facekit.ProtocolTimeout) as err:
        c.register("1", "g", [b"\xff\xd8"])
    assert "not re-sent" in str(err.value)
    eventually(lambda: len(srv.received) == 1)
    with pytest.raises(facekit.ProtocolTimeout):
        c.count()
    eventually(lambda: srv.interfaces() == ["0", "12", "12"])


def test_dead_first_endpoint_costs_one_timeout_then_is_tried_last(net):
    dead, live = net.server("dead", silent=True), net.server("live")
    c = net.client([dead, live], retries=0, suspect_s=600)  # no expiry during the test
    assert c.search("g", feature=[1.0]) == [("live", 99.0)]
    eventually(lambda: len(dead.received) == 1)
    # The next calls would start at `dead` in turn, but it just timed out: `live` first.
    for _ in range(4):
        assert c.search("g", feature=[1.0]) == [("live", 99.0)]
    assert len(dead.received) == 1 and len(live.received) == 5


def test_every_endpoint_silent_raises_after_trying_each(net):
    a, b = net.server("a", silent=True), net.server("b", silent=True)
    c = net.client([a, b], timeout=SHORT, retries=0)
    with pytest.raises(facekit.ProtocolTimeout) as err:
        c.count()
    assert a.endpoint in str(err.value) and b.endpoint in str(err.value)
    eventually(lambda: len(a.received) == 1 and len(b.received) == 1)


def test_round_robin_spreads_calls(net):
    servers = [net.server(n) for n in "abc"]
    c = net.client(servers)
    hits = [c.search("g", feature=[1.0])[0][0] for _ in range(9)]
    assert hits == list("abc") * 3
    assert [len(s.received) for s in servers] == [3, 3, 3]
    ped = net.client(servers, pedestrian_endpoint=",".join(s.endpoint for s in reversed(servers)))
    for _ in range(3):
        ped.pedestrians(b"\xff\xd8")
    assert [s.interfaces()[3:] for s in servers] == [["10"]] * 3


def test_track_mode_sticks_to_one_server_per_camera(net):
    servers = [net.server(n) for n in "abc"]
    c = net.client(servers)
    for i in range(6):
        c.track(b"\xff\xd8", camera_id="door", image_id=str(i))
    assert sorted(len(s.received) for s in servers) == [0, 0, 6]


def test_registration_re_sent_only_to_another_of_several(net):
    dead, live = net.server("dead", silent=True), net.server("live")
    c = net.client([dead, live])
    assert c.register("7", "staff", [b"\xff\xd8"]) is True
    eventually(lambda: len(dead.received) == 1)
    assert dead.received == live.received  # the same request: an idempotent overwrite

    a, b = net.server("a", silent=True), net.server("b", silent=True)
    c = net.client([a, b], timeout=SHORT, retries=5)
    with pytest.raises(facekit.ProtocolTimeout):
        c.register("7", "staff", [b"\xff\xd8"])
    eventually(lambda: len(a.received) == 1 and len(b.received) == 1)  # never twice to one


def test_versions_recorded_and_min_version_passed(net):
    srv = net.server("a")
    srv.version = 40
    plain = net.client([srv])
    assert plain.register("1", "staff", [b"\xff\xd8"]) and plain.versions == {"staff": 41}
    plain.search("staff", feature=[1.0])
    assert "min_version" not in srv.received[-1]
    plain.search("staff", feature=[1.0], min_version=3)
    assert srv.received[-1]["min_version"] == 3
    with pytest.raises(ValueError):
        plain.search("staff", feature=[1.0], min_version=-1)

    ryw = net.client([srv], read_your_writes=True)
    ryw.search("staff", feature=[1.0])
    assert "min_version" not in srv.received[-1]  # nothing written by this client yet
    assert ryw.delete("1", "staff") and ryw.versions == {"staff": 42}
    ryw.search("staff", feature=[1.0])
    assert srv.received[-1]["min_version"] == 42
    ryw.search("staff", feature=[1.0], min_version=5)
    assert srv.received[-1]["min_version"] == 5
    ryw.search("other", feature=[1.0])
    assert "min_version" not in srv.received[-1]


def test_versions_of_a_registration_over_several_groups(net):
    srv = net.server("a")
    srv.version = 9
    c = net.client([srv])
    c.register_many([("1", "g1", [b"\xff\xd8"]), ("2", "g2", [b"\xff\xd8"])])
    assert c.versions == {}  # one int for two groups: whose version it is is unknown
    srv.answer = lambda msg: {"error_message": "101", "version": {"g1": 3, "g2": 12}}
    c.register_many([("1", "g1", [b"\xff\xd8"]), ("2", "g2", [b"\xff\xd8"])])
    assert c.versions == {"g1": 3, "g2": 12}
    srv.answer = lambda msg: {"error_message": "301", "version": 2}
    c.delete("1", "g1")
    assert c.versions["g1"] == 3  # a version never goes back
