"""Enrolment under kill -9 and SIGTERM, in rounds (issue 16 item 8; docs/RELIABILITY.md quotes
the output): nothing acknowledged is lost, no delete is undone, every request the server took
before SIGTERM is answered.

usage: python bench/server/crash_rounds.py [--rounds 10] [--clients 4] [--shared ../shared/data]

One SQLite registry for every round. Each round starts the installed package's facekit_server
on it, lets `clients` threads register (one new person a request, with the photo's landmarks
so that no detection runs) and delete (every 5th request deletes a face registered earlier)
for a random 1-3 s, then sends SIGKILL (kill -9 rounds) or SIGTERM (SIGTERM rounds). After
each round the server is started again and every face whose registration was acknowledged
(101) and not deleted since must be there; every face whose deletion was acknowledged (301)
must be absent. SIGTERM rounds also count requests sent before the signal that got no reply.
"""
import argparse
import base64
import glob
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import cv2
import zmq

import facekit


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp):
        self.tmp = tmp
        self.face = f"tcp://127.0.0.1:{free_port()}"
        self.cfg = os.path.join(tmp, "config.json")
        json.dump({"face_endpoint": self.face, "pedestrian_endpoint": f"tcp://127.0.0.1:{free_port()}",
                   "model_dir": facekit.model_dir(), "registry_path": os.path.join(tmp, "registry.db"),
                   "max_requests": 0, "register_factor": 0, "log_level": "warn"}, open(self.cfg, "w"))
        self.ctx = zmq.Context()
        self.proc = None

    def start(self):
        binary = os.path.join(os.path.dirname(facekit.__file__), "bin", "facekit_server")
        self.proc = subprocess.Popen([binary, "--config", self.cfg],
                                     stderr=open(os.path.join(self.tmp, "server.log"), "a"))
        t0 = time.perf_counter()
        while self.call({"interface": "12", "api_key": "k"}, 1000) is None:
            if self.proc.poll() is not None or time.perf_counter() - t0 > 120:
                raise RuntimeError("server did not start")
        return time.perf_counter() - t0

    def call(self, msg, timeout_ms=60_000):
        sock = self.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.face)
        sock.send(json.dumps(msg).encode())
        reply = json.loads(sock.recv()) if sock.poll(timeout_ms) else None
        sock.close()
        return reply


def photo_with_landmarks(shared):
    """A one-face photo and its 5 points, from the engine (so registration skips detection)."""
    path = sorted(glob.glob(os.path.join(shared, "faces-dev", "*", "*.jpg")))[0]
    img = cv2.imread(path)
    face = facekit.Engine().largest_face(img)
    pts = [tuple(p) for p in face.landmarks]
    return (base64.b64encode(cv2.imencode(".jpg", img)[1].tobytes()).decode(),
            {"x": [float(p[0]) for p in pts], "y": [float(p[1]) for p in pts]})


def run_round(server, kind, clients, image, landmarks, state, rng):
    """One round; returns (acknowledged writes, requests left unanswered before the signal)."""
    lock = threading.Lock()
    stop = threading.Event()
    sent_before_signal = {"unanswered": 0, "acks": 0}
    signalled = threading.Event()

    def client():
        ctx = zmq.Context.instance()
        while not stop.is_set():
            with lock:
                deletable = [f for f in state["present"] if f not in state["deleting"]]
                if deletable and rng.random() < 0.2:
                    fid = rng.choice(deletable)
                    state["deleting"].add(fid)
                    msg = {"interface": "2", "api_key": "k", "group_id": "rounds", "face_id": fid}
                else:
                    state["next"] += 1
                    fid = str(state["next"])
                    msg = {"interface": "0", "api_key": "k", "face_id": [fid], "group_id": ["rounds"],
                           "image_base64": [[image]], "landmarks": [[landmarks]]}
            sock = ctx.socket(zmq.REQ)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(server.face)
            sock.send(json.dumps(msg).encode())
            before = not signalled.is_set()
            reply = json.loads(sock.recv()) if sock.poll(30_000) else None
            sock.close()
            with lock:
                if msg["interface"] == "2":
                    state["deleting"].discard(fid)
                if reply is None:
                    if before and kind == "SIGTERM":
                        sent_before_signal["unanswered"] += 1
                    # Unknown outcome: a registration may or may not have landed; a delete
                    # may or may not have happened. Neither is counted as acknowledged.
                    state["unknown"].add(fid)
                    if signalled.is_set():
                        return
                    continue
                sent_before_signal["acks"] += 1
                code = reply["error_message"]
                if msg["interface"] == "0" and code == "101":
                    state["present"].add(fid)
                elif msg["interface"] == "2" and code == "301":
                    state["present"].discard(fid)
                    state["deleted"].add(fid)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(rng.uniform(1.0, 3.0))
    with lock:
        signalled.set()
    server.proc.send_signal(signal.SIGKILL if kind == "kill -9" else signal.SIGTERM)
    rc = server.proc.wait(60)
    stop.set()
    for t in threads:
        t.join()
    return sent_before_signal["acks"], sent_before_signal["unanswered"], rc


def check(server, state):
    lost = [f for f in state["present"] if f not in state["unknown"] and
            server.call({"interface": "3", "api_key": "k", "group_id": "rounds", "face_id": f})["error_message"] != "401"]
    undone = [f for f in state["deleted"] if f not in state["unknown"] and f not in state["present"] and
              server.call({"interface": "3", "api_key": "k", "group_id": "rounds", "face_id": f})["error_message"] != "402"]
    return lost, undone


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10, help="rounds of each kind")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    image, landmarks = photo_with_landmarks(args.shared)
    print("| kind | round | writes acknowledged | unanswered before the signal | exit code | restart s | "
          "faces checked | lost | deletes undone |\n|---|---|---|---|---|---|---|---|---|")
    totals = {"kill -9": [0, 0, 0, 0], "SIGTERM": [0, 0, 0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(tmp)
        server.start()
        state = {"next": 0, "present": set(), "deleted": set(), "deleting": set(), "unknown": set()}
        for kind in ("kill -9", "SIGTERM"):
            for r in range(args.rounds):
                acks, unanswered, rc = run_round(server, kind, args.clients, image, landmarks, state, rng)
                restart = server.start()
                lost, undone = check(server, state)
                t = totals[kind]
                t[0] += acks
                t[1] += unanswered
                t[2] += len(lost)
                t[3] += len(undone)
                print(f"| {kind} | {r + 1} | {acks} | {unanswered} | {rc} | {restart:.1f} | "
                      f"{len(state['present']) + len(state['deleted'])} | {len(lost)} | {len(undone)} |", flush=True)
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(60)
    for kind, (acks, unanswered, lost, undone) in totals.items():
        print(f"{kind}: {args.rounds} rounds, {acks} acknowledged writes, {unanswered} requests unanswered before "
              f"the signal, {lost} acknowledged faces lost, {undone} acknowledged deletes undone")


if __name__ == "__main__":
    sys.exit(main())
