"""Starts the real facekit_server binary on free loopback ports for the conformance suite."""
import base64
import json
import os
import socket
import subprocess
import time

import pytest
import zmq

import facekit


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp, keys=None, **extra):
        self.face = f"tcp://127.0.0.1:{_free_port()}"
        self.pedestrian = f"tcp://127.0.0.1:{_free_port()}"
        cfg = {"face_endpoint": self.face, "pedestrian_endpoint": self.pedestrian,
               "model_dir": facekit.model_dir(), "pool_size": 2}
        cfg["registry_path"] = os.path.join(tmp, "registry.db")
        # FACEKIT_TEST_REQUEST_TIMEOUT_MS: a slower build (scripts/sanitize-server's) on a busy
        # machine needs a longer deadline than the default 15 s; a test that sets one keeps it.
        if os.environ.get("FACEKIT_TEST_REQUEST_TIMEOUT_MS"):
            cfg["request_timeout_ms"] = int(os.environ["FACEKIT_TEST_REQUEST_TIMEOUT_MS"])
        cfg.update(extra)
        if keys:
            cfg["api_keys"] = keys
        self.tmp, self.cfg_path = tmp, None
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        self.cfg_path = path
        self.ctx = zmq.Context()
        self.start()

    def start(self):
        # FACEKIT_SERVER_BINARY: another build of the server (scripts/sanitize-server's ASan one).
        binary = os.environ.get("FACEKIT_SERVER_BINARY") or os.path.join(os.path.dirname(facekit.__file__), "bin",
                                                                          "facekit_server")
        self.log = open(os.path.join(self.tmp, "server.log"), "a+")
        start = self.log.tell()
        self.proc = subprocess.Popen([binary, "--config", self.cfg_path], stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            self.log.seek(start)
            if "listening on " + self.face in self.log.read():
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
