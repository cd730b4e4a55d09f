"""Starts the real facekit_server binary on free loopback ports for the conformance suite."""
import base64
import json
import os
import random
import socket
import subprocess
import time

import pytest
import zmq

import facekit


def _ephemeral_ports():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(v) for v in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def _free_port(rng=random.SystemRandom()):
    """A loopback port free now and outside the kernel's ephemeral range. A port the kernel hands
    out (bind to 0) was taken between the check and the server's bind, seconds later once its
    models had loaded, by a connection's ephemeral source port (CI, 2026-12-02: "cannot bind
    tcp://127.0.0.1:45441: Address already in use")."""
    low, high = _ephemeral_ports()
    ranges = [r for r in ((10000, low - 1), (high + 1, 65535)) if r[1] - r[0] > 1000]
    for _ in range(200):
        port = rng.randint(*rng.choice(ranges)) if ranges else 0
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free loopback port")


class PortTaken(RuntimeError):
    """The server exited because another process held one of its ports."""


class Server:
    def __init__(self, tmp, keys=None, **extra):
        cfg = {"model_dir": facekit.model_dir(), "pool_size": 2}
        cfg["registry_path"] = os.path.join(tmp, "registry.db")
        # FACEKIT_TEST_REQUEST_TIMEOUT_MS: a slower build (scripts/sanitize-server's) on a busy
        # machine needs a longer deadline than the default 15 s; a test that sets one keeps it.
        if os.environ.get("FACEKIT_TEST_REQUEST_TIMEOUT_MS"):
            cfg["request_timeout_ms"] = int(os.environ["FACEKIT_TEST_REQUEST_TIMEOUT_MS"])
        cfg.update(extra)
        if keys:
            cfg["api_keys"] = keys
        self.tmp, self.cfg = tmp, cfg
        self.cfg_path = os.path.join(tmp, "config.json")
        self.ctx = zmq.Context()
        # A first start that loses a port to another process anyway gets new ones; a restart
        # keeps its endpoints, which clients hold.
        for attempt in range(3):
            self.face = f"tcp://127.0.0.1:{_free_port()}"
            self.pedestrian = f"tcp://127.0.0.1:{_free_port()}"
            self.cfg.update(face_endpoint=self.face, pedestrian_endpoint=self.pedestrian)
            with open(self.cfg_path, "w") as f:
                json.dump(self.cfg, f)
            try:
                self.start()
                return
            except PortTaken:
                if attempt == 2:
                    raise

    def start(self):
        # FACEKIT_SERVER_BINARY: another build of the server (scripts/sanitize-server's ASan one).
        binary = os.environ.get("FACEKIT_SERVER_BINARY") or os.path.join(os.path.dirname(facekit.__file__), "bin",
                                                                          "facekit_server")
        self.log = open(os.path.join(self.tmp, "server.log"), "a+")
        start = self.log.tell()
        self.proc = subprocess.Popen([binary, "--config", self.cfg_path], stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            self.log.seek(start)
            log = self.log.read()
            if self.proc.poll() is not None:
                self.log.close()
                if "cannot bind " in log and "Address already in use" in log:
                    raise PortTaken(log.strip().splitlines()[-1])
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            if "listening on " + self.face in log:
                return
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def request(self, message, endpoint=None, timeout_ms=30000):
        sock = self.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
        sock.connect(endpoint or self.face)
        sock.send(message if isinstance(message, bytes) else json.dumps(message).encode())
        reply = json.loads(sock.recv())
        sock.close()
        return reply

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)
        self.log.close()

    def stop(self):
        self.proc.send_signal(2)
        try:
            self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self.ctx.destroy(linger=0)
        self.log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    # The suite registers faster than the default limit (pool_size x 4 a second, a sliding
    # window since 2026-11-30): limits are tested on their own server (test_server_rules.py).
    s = Server(str(tmp_path_factory.mktemp("server")), register_factor=0)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory):
    keys = ["k-alpha", "k-beta", {"key": "k-reader", "interfaces": ["3", "12"], "groups": ["visible"]}]
    s = Server(str(tmp_path_factory.mktemp("keyed")), keys=keys)
    yield s
    s.stop()


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


class Images:
    """Real photos as base64: one face, another of the same person, someone else, three people, none."""

    def __init__(self, shared):
        dev = os.path.join(shared, "faces-dev")
        self.obama1 = b64(os.path.join(dev, "obama", "obama1.jpg"))
        self.obama2 = b64(os.path.join(dev, "obama", "obama2.jpg"))
        self.biden = b64(os.path.join(dev, "biden", "biden1.jpg"))
        self.group = b64(os.path.join(dev, "multi", "obama_and_biden.jpg"))
        self.building = b64("/usr/share/doc/opencv-doc/examples/data/building.jpg")


@pytest.fixture(scope="session")
def images(shared_data):
    return Images(shared_data)
