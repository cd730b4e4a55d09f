"""Server throughput and latency on loopback (interfaces.md 1 feature mode over 100k faces,
6 on a 640x480 one-face image, 0 registration of one face), with 1, 4 and 16 clients.

usage: python bench/server/run.py [--faces 100000] [--seconds 10]
Needs the build (build/bench/facekit_bench_server) and the installed wheel (the server).
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2

import facekit
from endpoints import WILDCARD, bound_endpoints

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "build", "bench", "facekit_bench_server")
SHARED = os.environ.get("FACEKIT_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))


def one_face_jpeg():
    img = cv2.imread(os.path.join(SHARED, "faces-dev", "obama", "obama1.jpg"))
    h = min(img.shape[0], img.shape[1] * 3 // 4)
    w = h * 4 // 3
    y, x = 0, (img.shape[1] - w) // 2  # the top of the portrait: its face whole
    img = cv2.resize(img[y:y + h, x:x + w], (640, 480), interpolation=cv2.INTER_AREA)
    return base64.b64encode(cv2.imencode(".jpg", img)[1].tobytes()).decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--only", choices=("search", "features", "register"), help="run one request kind")
    ap.add_argument("--clients", default="1,4,16", help="comma-separated client counts")
    ap.add_argument("--registry", help="serve this existing registry (e.g. one bench_registry.py built) "
                                       "instead of populating one; --faces is then its size")
    ap.add_argument("--group", default="bench", help="the group searched")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="a server config setting, e.g. --set inline_quick_requests=false --set hnsw_ef_search=32")
    args = ap.parse_args()
    eng = facekit.Engine()
    work = tempfile.mkdtemp(prefix="facekit-bench-")
    if args.registry:
        reg, pop = args.registry, None
    else:
        reg = os.path.join(work, "registry.db")
        pop = json.loads(subprocess.check_output([TOOL, "populate", reg, str(args.faces), str(eng.dimension),
                                                  eng.feature_model_id]))
    cfg = {"face_endpoint": WILDCARD, "pedestrian_endpoint": WILDCARD,
           "registry_path": reg, "max_requests": 0, "register_factor": 0, "model_dir": facekit.model_dir()}
    cfg.update({k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)})
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump(cfg, f)
    binary = os.path.join(os.path.dirname(facekit.__file__), "bin", "facekit_server")
    log = open(os.path.join(work, "server.log"), "w+")
    t0 = time.time()
    server = subprocess.Popen([binary, "--config", os.path.join(work, "config.json"), "--log-level", "warn"],
                              stderr=log)
    try:  # the server goes down with the script, whatever fails
        endpoint, _ = bound_endpoints(server, log.name)
        import zmq
        sock = zmq.Context.instance().socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(endpoint)
        sock.send(json.dumps({"interface": "12", "api_key": "b"}).encode())
        if not sock.poll(600_000):
            raise SystemExit("server did not answer")
        count = json.loads(sock.recv())["reg_nums"]
        start_s = time.time() - t0
        assert count == args.faces, count
        image = one_face_jpeg()
        query = eng.extract(base64.b64decode(image)).tolist()
        requests = {
            f"1 feature search, {args.faces} faces": {"interface": "1", "api_key": "b", "group_id": args.group,
                                                      "score": 0, "topk": 5, "field": "feature", "feature": query},
            "6 features, 640x480 one face": {"interface": "6", "api_key": "b", "image_base64": [image]},
            "0 register one face": {"interface": "0", "api_key": "b", "face_id": ["999999999"],
                                    "group_id": ["bench-reg"], "image_base64": [[image]]},
        }
        if pop:
            print(f"registry populated: {pop['rows']} rows in {pop['seconds']} s ({pop['rows_per_s']} rows/s, "
                  f"one SQLite transaction per 5000, index built and snapshotted)")
        print(f"server start with {count} faces (models, snapshot + check against SQLite), first answer after: "
              f"{start_s:.1f} s\n")
        print("| request | clients | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|")
        for label, msg in requests.items():
            if args.only and args.only not in {"1": "search", "6": "features", "0": "register"}[label[0]]:
                continue
            path = os.path.join(work, "request.json")
            with open(path, "w") as f:
                json.dump(msg, f)
            for clients in (int(c) for c in args.clients.split(",")):
                r = json.loads(subprocess.check_output([TOOL, "load", endpoint, path, str(clients), str(args.seconds)],
                                                       stderr=subprocess.DEVNULL))
                print(f"| {label} | {clients} | {r['req_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |",
                      flush=True)
    finally:
        server.send_signal(2)
        server.wait(30)


if __name__ == "__main__":
    sys.exit(main())
