"""Starts the real facekit_server binary on free loopback ports for the conformance suite."""
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
    def __init__(self, tmp, keys=None):
        self.face = f"tcp://127.0.0.1:{_free_port()}"
        self.pedestrian = f"tcp://127.0.0.1:{_free_port()}"
        cfg = {"face_endpoint": self.face, "pedestrian_endpoint": self.pedestrian,
               "model_dir": facekit.model_dir(), "pool_size": 2}
        if keys:
            cfg["api_keys"] = keys
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        binary = os.path.join(os.path.dirname(facekit.__file__), "bin", "facekit_server")
        self.log = open(os.path.join(tmp, "server.log"), "w+")
        self.proc = subprocess.Popen([binary, "--config", path], stderr=self.log)
        self.ctx = zmq.Context()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            self.log.seek(0)
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
    s = Server(str(tmp_path_factory.mktemp("server")))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory):
    s = Server(str(tmp_path_factory.mktemp("keyed")), keys=["k-alpha", "k-beta"])
    yield s
    s.stop()
