"""Soaks the real server: memory after 100,000 hostile messages against memory after a warm-up of
valid requests (issue 16 item 3: within 1.25x), then a mixed soak of many clients for minutes
with RSS sampled and p50/p99 latency per request kind (item 8). docs/RELIABILITY.md quotes it.

usage: python bench/server/soak.py [--warm-seconds 60] [--warm-clients 8] [--hostile 100000] [--hostile-clients 8]
           [--soak-seconds 600] [--soak-clients 16] [--shared ../shared/data]

The server is the installed package's facekit_server (hostile.py's Server: fresh SQLite
registry, pool_size = cores, rate limits off, log level warn). Hostile messages are made from
a fixed seed: random bytes, valid requests of every interface with one field broken (wrong
type, NUL bytes, huge or negative numbers, deep nesting, bad base64, truncated or bit-flipped
images, headers claiming huge sizes, over-long strings), bad keys and bad interfaces. Every
message must get a reply (no reply within 30 s is counted and printed). RSS is read from
/proc after the server has been idle for 2 s (a worker trims its heap after 0.5 s idle).
"""
import argparse
import collections
import glob
import json
import os
import random
import sys
import tempfile
import threading
import time

import cv2
import numpy as np
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import Server, b64, jpeg_claiming, png, rss_mib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def photos(shared, n):
    """Real one-face photos (faces-dev), encoded small: the valid requests' images."""
    paths = sorted(glob.glob(os.path.join(shared, "faces-dev", "*", "*.jpg")))[: n * 3]
    out = []
    for p in paths:
        img = cv2.imread(p)
        if img is None:
            continue
        scale = 320 / max(img.shape[:2])
        if scale < 1:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        out.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
        if len(out) == n:
            break
    if not out:
        raise SystemExit(f"no photos under {shared}/faces-dev")
    return out


class Client:
    """One REQ socket; a request that gets no reply within the timeout is counted, and the
    socket replaced (a REQ socket cannot send again before it has its reply)."""

    def __init__(self, ctx, endpoint, timeout_ms):
        self.ctx, self.endpoint, self.timeout_ms = ctx, endpoint, timeout_ms
        self.sock = None
        self.fresh()

    def fresh(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = self.ctx.socket(zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(self.endpoint)

    def call(self, data):
        self.sock.send(data)
        if not self.sock.poll(self.timeout_ms):
            self.fresh()
            return None
        raw = self.sock.recv()
        try:
            return json.loads(raw)
        except ValueError:
            return {"error_message": "not JSON"}


def valid_requests(imgs, feature, rng, next_id):
    """One valid request of a random kind: (kind, dict)."""
    img = b64(rng.choice(imgs))
    kinds = [("search feature", 30), ("query", 10), ("counts", 5), ("features", 15), ("detect", 10),
             ("compare", 5), ("register", 8), ("delete", 4), ("gender", 4), ("age", 4), ("search image", 5)]
    kind = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
    fid = str(rng.randrange(0, next_id[0] + 1))
    msg = {
        "search feature": lambda: {"interface": "1", "group_id": "soak", "score": 60, "topk": 5, "field": "feature",
                                   "feature": feature},
        "search image": lambda: {"interface": "1", "group_id": "soak", "score": 60, "topk": 5, "image_base64": [img]},
        "query": lambda: {"interface": "3", "group_id": "soak", "face_id": fid},
        "counts": lambda: {"interface": "12", "group_id": "soak"},
        "features": lambda: {"interface": "6", "image_base64": [img]},
        "detect": lambda: {"interface": "5", "image_base64": img, "minface_size": 40, "maxface_size": 400},
        "compare": lambda: {"interface": "4", "image_base64": [img, b64(rng.choice(imgs))]},
        "register": lambda: {"interface": "0", "face_id": [str(next_id[0] + 1)], "group_id": ["soak"],
                             "image_base64": [[img]]},
        "delete": lambda: {"interface": "2", "group_id": "soak", "face_id": fid},
        "gender": lambda: {"interface": "7", "image_base64": [img]},
        "age": lambda: {"interface": "8", "image_base64": [img]},
    }[kind]()
    if kind == "register":
        next_id[0] += 1
    msg["api_key"] = "soak"
    return kind, msg


class Hostile:
    """Deterministic hostile messages (bytes)."""

    def __init__(self, imgs, feature, seed):
        self.rng = random.Random(seed)
        self.imgs = imgs
        self.feature = feature
        small = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
        self.bad_images = [
            b"GIF89a" + bytes(40), small[:20], imgs[0][: len(imgs[0]) // 3], png(8000, 1), png(1, 9000),
            bytes(self.rng.randrange(256) for _ in range(300)), b"\x89PNG\r\n\x1a\n" + bytes(30),
        ]
        self.huge_header = [jpeg_claiming_bytes(imgs[0], 30000, 30000)]

    def broken_value(self):
        r = self.rng
        return r.choice([None, 1e308, -1, 2 ** 63, "", "a\u0000b", "\u0000", [], {}, [[[[[]]]]], "x" * 5000,
                         True, "9" * 40, {"x": [1, 2], "y": "z"}, [None] * 50, -1e-320, "../../etc/passwd",
                         "\ud7ff\ue000", "data:image/png;base64,"])

    def image_field(self):
        r = self.rng
        choice = r.randrange(6)
        if choice == 0:
            return b64(r.choice(self.bad_images))
        if choice == 1:
            return b64(r.choice(self.huge_header))
        if choice == 2:  # a real image with bytes flipped
            data = bytearray(r.choice(self.imgs))
            for _ in range(r.randrange(1, 20)):
                data[r.randrange(len(data))] = r.randrange(256)
            return b64(bytes(data))
        if choice == 3:
            return "not base64 at all !!"
        if choice == 4:
            return b64(r.choice(self.imgs))[: r.randrange(1, 200)]
        return self.broken_value()

    def message(self):
        r = self.rng
        kind = r.randrange(10)
        if kind == 0:
            return bytes(r.randrange(256) for _ in range(r.randrange(0, 400)))
        if kind == 1:
            text = json.dumps({"interface": str(r.randrange(13)), "api_key": "k", "group_id": "soak",
                               "face_id": "1"})
            cut = r.randrange(len(text))
            return text[:cut].encode() + bytes([r.randrange(256)]) + text[cut + 1:].encode()
        if kind == 2:
            return ("[" * r.randrange(100, 3000)).encode()
        interface = str(r.randrange(13))
        msg = {"interface": interface, "api_key": r.choice(["k", "a\u0000b", "", None, 5])}
        fields = {
            "0": lambda: {"face_id": [r.choice(["1", "x", None, "1" * 40])], "group_id": [r.choice(["g", "", 3])],
                          "image_base64": [[self.image_field()]]},
            "1": lambda: {"group_id": r.choice(["soak", "", None, "\u0000"]), "score": r.choice([60, -5, "a", 1e9]),
                          "topk": r.choice([1, 0, 99, "2"]), "field": r.choice(["feature", "x", None]),
                          "feature": r.choice([self.feature[: r.randrange(0, 1200)], ["a"] * 4, [], None]),
                          "image_base64": [self.image_field()]},
            "2": lambda: {"group_id": self.broken_value(), "face_id": r.choice(["1", "-1", "1e3", None]),
                          "field": r.choice(["range", "all", None])},
            "3": lambda: {"group_id": r.choice(["soak", "\u0000x"]), "face_id": self.broken_value()},
            "4": lambda: {"image_base64": [self.image_field() for _ in range(r.randrange(0, 4))],
                          "landmarks": r.choice([None, [None, {"x": [1], "y": [2]}], "x"])},
            "5": lambda: {"image_base64": self.image_field(), "minface_size": r.choice([80, 0, -1, 10 ** 9, "x"]),
                          "maxface_size": r.choice([300, 1, None]), "field": r.choice([None, "track", "portrait", 7]),
                          "camera_id": r.choice([None, "", "c" * 300]), "classify": r.choice([None, "age,x", 3])},
            "9": lambda: {"live": r.choice([[], [{"type": "blink", "image1_base64": self.image_field(),
                                                  "image2_base64": self.image_field()}], "x", [1, 2, 3, 4, 5]])},
        }.get(interface, lambda: {"image_base64": r.choice([[self.image_field()], self.image_field(), []]),
                                  "group_id": self.broken_value()})()
        msg.update(fields)
        if r.random() < 0.2:
            msg[r.choice(list(msg))] = self.broken_value()
        return json.dumps(msg).encode()


def jpeg_claiming_bytes(data, width, height):
    with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
        f.write(data)
        f.flush()
        return jpeg_claiming(f.name, width, height)


def idle_rss(server, seconds=2.0):
    time.sleep(seconds)
    return rss_mib(server.proc.pid)


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def warm_up(server, imgs, feature, seconds, clients):
    """Valid requests of every kind from `clients` threads for `seconds`."""
    next_id = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    counts = collections.Counter()

    def loop(seed):
        rng = random.Random(seed)
        c = Client(server.ctx, server.face, 60_000)
        while time.perf_counter() < stop:
            with lock:
                kind, msg = valid_requests(imgs, feature, rng, next_id)
            reply = c.call(json.dumps(msg).encode())
            with lock:
                counts[kind] += 1
                if reply is None:
                    counts["no reply"] += 1
        c.sock.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts, next_id[0]


def hostile_phase(server, imgs, feature, total, clients):
    codes = collections.Counter()
    lock = threading.Lock()
    no_reply = []
    samples = []
    per = total // clients

    def loop(seed):
        gen = Hostile(imgs, feature, seed)
        c = Client(server.ctx, server.face, 30_000)
        for _ in range(per):
            data = gen.message()
            reply = c.call(data)
            with lock:
                if reply is None:
                    no_reply.append(data[:200])
                else:
                    codes[str(reply.get("error_message"))] += 1
        c.sock.close()

    done = threading.Event()

    def sampler():
        while not done.wait(1.0):
            samples.append(rss_mib(server.proc.pid))

    s = threading.Thread(target=sampler)
    s.start()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(1000 + i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    done.set()
    s.join()
    return codes, no_reply, samples, seconds, per * clients


def mixed_soak(server, imgs, feature, seconds, clients, next_id):
    lat = collections.defaultdict(list)
    unexpected = collections.Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    rss = []
    ok_codes = {"101", "102", "201", "202", "301", "302", "401", "402", "501", "502", "601", "701", "801", "901",
                "1301", "10002", "10003"}
    ids = [next_id]

    def loop(seed):
        rng = random.Random(seed)
        gen = Hostile(imgs, feature, seed)
        c = Client(server.ctx, server.face, 60_000)
        while time.perf_counter() < stop:
            if rng.random() < 0.03:
                kind, data = "hostile", gen.message()
            else:
                with lock:
                    kind, msg = valid_requests(imgs, feature, rng, ids)
                data = json.dumps(msg).encode()
            t0 = time.perf_counter()
            reply = c.call(data)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                lat[kind].append(ms)
                if reply is None:
                    unexpected[(kind, "no reply")] += 1
                elif kind != "hostile" and reply.get("error_message") not in ok_codes:
                    unexpected[(kind, reply.get("error_message"))] += 1
        c.sock.close()

    done = threading.Event()
    t_start = time.perf_counter()

    def sampler():
        while not done.wait(10.0):
            rss.append((time.perf_counter() - t_start, rss_mib(server.proc.pid)))

    s = threading.Thread(target=sampler)
    s.start()
    threads = [threading.Thread(target=loop, args=(5000 + i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    s.join()
    return lat, unexpected, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--warm-seconds", type=float, default=60)
    ap.add_argument("--warm-clients", type=int, default=8,
                    help="clients of the warm-up (as many as the hostile phase's: the ratio is then the "
                         "hostile content's, not the concurrency's)")
    ap.add_argument("--hostile", type=int, default=100_000)
    ap.add_argument("--hostile-clients", type=int, default=8)
    ap.add_argument("--soak-seconds", type=float, default=600)
    ap.add_argument("--soak-clients", type=int, default=16)
    args = ap.parse_args()

    imgs = photos(args.shared, 24)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(tmp)
        try:
            reply = server.try_request({"interface": "6", "api_key": "k", "image_base64": [b64(imgs[0])]}, 120_000)
            feature = reply["feature"][0]
            print(f"server pid {server.proc.pid}, RSS at start {rss_mib(server.proc.pid):.0f} MiB, "
                  f"load {open('/proc/loadavg').read().split()[:3]}")
            counts, next_id = warm_up(server, imgs, feature, args.warm_seconds, args.warm_clients)
            warm = idle_rss(server)
            print(f"warm-up: {sum(counts.values())} valid requests from {args.warm_clients} clients in "
                  f"{args.warm_seconds:g} s ({dict(counts)}); "
                  f"RSS after 2 s idle {warm:.0f} MiB")
            if args.hostile > 0:
                codes, no_reply, samples, seconds, sent = hostile_phase(server, imgs, feature, args.hostile,
                                                                        args.hostile_clients)
                after = idle_rss(server)
                print(f"hostile: {sent} messages from {args.hostile_clients} clients in {seconds:.0f} s "
                      f"({sent / seconds:.0f}/s); replies by code {dict(codes.most_common())}; "
                      f"no reply within 30 s: {len(no_reply)}")
                for data in no_reply[:5]:
                    print(f"  no reply: {data!r}")
                print(f"  RSS during: max {max(samples or [0]):.0f} MiB; after 2 s idle {after:.0f} MiB = "
                      f"{after / warm:.2f}x the warm-up's (goal <= 1.25x)")
            if args.soak_seconds > 0:
                lat, unexpected, rss = mixed_soak(server, imgs, feature, args.soak_seconds, args.soak_clients,
                                                  next_id)
                after = idle_rss(server)
                total = sum(len(v) for v in lat.values())
                print(f"\nmixed soak: {args.soak_clients} clients, {args.soak_seconds:g} s, {total} requests "
                      f"({total / args.soak_seconds:.1f}/s), 3 % hostile; unexpected answers: "
                      f"{dict(unexpected) or 'none'}")
                print("| request | count | p50 ms | p99 ms |\n|---|---|---|---|")
                for kind in sorted(lat, key=lambda k: -len(lat[k])):
                    v = lat[kind]
                    print(f"| {kind} | {len(v)} | {percentile(v, 0.5):.1f} | {percentile(v, 0.99):.1f} |")
                print("RSS (MiB) every 10 s: " + ", ".join(f"{m:.0f}" for _, m in rss))
                print(f"RSS after 2 s idle: {after:.0f} MiB = {after / warm:.2f}x the warm-up's")
            print(f"load at the end {open('/proc/loadavg').read().split()[:3]}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
