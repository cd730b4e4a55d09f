"""Hostile requests against the real server: the answer, its latency and the server's extra
peak memory for each (issue 16's cases; docs/RELIABILITY.md quotes the output).

usage: python bench/server/hostile.py [--shared ../shared/data]

Starts facekit_server (the installed package's) on free loopback ports with a fresh registry,
warms it with valid requests, then sends each case alone and samples the server's RSS every
5 ms while it runs. "extra peak" = the highest RSS seen during the case minus the RSS before it.
"""
import argparse
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time

import cv2
import numpy as np
import zmq

import facekit
from endpoints import WILDCARD, bound_endpoints


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def b64(data):
    return base64.b64encode(data).decode()


def png(width, height):
    return cv2.imencode(".png", np.zeros((height, width), np.uint8))[1].tobytes()


def jpeg_claiming(path, width, height):
    data = bytearray(open(path, "rb").read())
    i = 2
    while True:
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xC3:
            data[i + 5:i + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        i += 2 + length


class Server:
    def __init__(self, tmp):
        cfg = {"face_endpoint": WILDCARD, "pedestrian_endpoint": WILDCARD,
               "model_dir": facekit.model_dir(), "registry_path": os.path.join(tmp, "r.db"),
               "max_requests": 0, "register_factor": 0, "log_level": "warn"}
        path = os.path.join(tmp, "config.json")
        json.dump(cfg, open(path, "w"))
        binary = os.path.join(os.path.dirname(facekit.__file__), "bin", "facekit_server")
        self.log = open(os.path.join(tmp, "server.log"), "w")
        self.proc = subprocess.Popen([binary, "--config", path], stderr=self.log)
        self.face, _ = bound_endpoints(self.proc, self.log.name)
        self.ctx = zmq.Context()
        for _ in range(600):
            if self.try_request({"interface": "12", "api_key": "k"}, 1000) is not None:
                return
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def try_request(self, msg, timeout_ms):
        sock = self.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.face)
        sock.send(msg if isinstance(msg, bytes) else json.dumps(msg).encode())
        reply = json.loads(sock.recv()) if sock.poll(timeout_ms) else None
        sock.close()
        return reply

    def measure(self, msg, timeout_ms=120_000):
        peak, before, done = [0.0], rss_mib(self.proc.pid), threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_mib(self.proc.pid))
                time.sleep(0.005)

        t = threading.Thread(target=sample)
        t.start()
        t0 = time.perf_counter()
        reply = self.try_request(msg, timeout_ms)
        ms = (time.perf_counter() - t0) * 1000
        done.set()
        t.join()
        return reply, ms, max(0.0, peak[0] - before), before

    def stop(self):
        self.proc.send_signal(2)
        self.proc.wait(60)
        self.ctx.destroy(linger=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
    args = ap.parse_args()
    photo = os.path.join(args.shared, "faces-dev", "obama", "obama1.jpg")
    tmp = tempfile.mkdtemp()
    s = Server(tmp)
    ok = b64(open(photo, "rb").read())
    for _ in range(5):  # warm-up: valid requests
        s.try_request({"interface": "5", "api_key": "k", "image_base64": ok}, 60000)
        s.try_request({"interface": "6", "api_key": "k", "image_base64": [ok]}, 60000)
    warm = rss_mib(s.proc.pid)
    big = cv2.resize(cv2.imread(photo), (6000, 6000))
    cases = [
        ("JPEG (50 KB) claiming 30000x30000, interface 6", {"interface": "6", "api_key": "k",
                                                            "image_base64": [b64(jpeg_claiming(photo, 30000, 30000))]}),
        ("PNG 8000x1, interface 6", {"interface": "6", "api_key": "k", "image_base64": [b64(png(8000, 1))]}),
        ("PNG 20000x1, interface 5 portrait", {"interface": "5", "api_key": "k", "field": "portrait",
                                              "image_base64": b64(png(20000, 1))}),
        ("GIF bytes, interface 6", {"interface": "6", "api_key": "k",
                                    "image_base64": [b64(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")]}),
        ("3 PNGs of 6000x6000 in one request (108 MP), interface 6",
         {"interface": "6", "api_key": "k", "image_base64": [b64(png(6000, 6000))] * 3}),
        ("PNG 6000x6000 grey (legal 36 MP), interface 5 defaults", {"interface": "5", "api_key": "k",
                                                                    "image_base64": b64(png(6000, 6000))}),
        ("PNG 6000x6000 grey, interface 5 minface 40", {"interface": "5", "api_key": "k", "minface_size": 40,
                                                        "maxface_size": 6000, "image_base64": b64(png(6000, 6000))}),
        ("PNG 6000x6000 grey, interface 5 minface 20", {"interface": "5", "api_key": "k", "minface_size": 20,
                                                        "maxface_size": 6000, "image_base64": b64(png(6000, 6000))}),
        ("JPEG 6000x6000 photo (legal 36 MP), interface 5 defaults",
         {"interface": "5", "api_key": "k", "image_base64": b64(cv2.imencode(".jpg", big)[1].tobytes())}),
        ("the same JPEG again (the server has seen this size)",
         {"interface": "5", "api_key": "k", "image_base64": b64(cv2.imencode(".jpg", big)[1].tobytes())}),
        ("the same JPEG, interface 5 minface 40 (textured everywhere: no region skipped)",
         {"interface": "5", "api_key": "k", "minface_size": 40, "maxface_size": 6000,
          "image_base64": b64(cv2.imencode(".jpg", big)[1].tobytes())}),
        ("the same JPEG, interface 5 minface 20 (a full-resolution scan)",
         {"interface": "5", "api_key": "k", "minface_size": 20, "maxface_size": 6000,
          "image_base64": b64(cv2.imencode(".jpg", big)[1].tobytes())}),
        ("40 MiB message (limit 32 MiB), dropped at the socket (the client waits 5 s)", b"x" * (40 << 20)),
    ]
    print("| case | answer | ms | extra peak RSS (MiB) |\n|---|---|---|---|")
    for name, msg in cases:
        reply, ms, extra, before = s.measure(msg, timeout_ms=60_000 if isinstance(msg, dict) else 5_000)
        answer = reply["error_message"] if reply else "no reply (connection dropped)"
        print(f"| {name} | {answer} | {ms:.0f} | {extra:.0f} |", flush=True)
    print(f"\nserver RSS after the warm-up: {warm:.0f} MiB, after the cases: {rss_mib(s.proc.pid):.0f} MiB")
    s.stop()


if __name__ == "__main__":
    sys.exit(main())
