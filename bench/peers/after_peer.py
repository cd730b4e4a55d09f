#!/usr/bin/env python3
"""facekit right after a peer's call: bench/peers/run.py's loop (every image, a 0.2 s pause before
each call) reduced to facekit in this process and one peer (face-api by default) in its Node
worker, with facekit's medians per image. Backs docs/BENCHMARKS.md, session 32: on a PVM guest
facekit's calls ran 2-4x slower after the peer's work than back to back; compare runs with
FACEKIT_HUGE_PAGES=0 and without, or under GLIBC_TUNABLES.

usage: .venv/bin/python bench/peers/after_peer.py [--rounds 5] [--peer faceapi|human|none]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import run as peers


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds after 2 warm-up rounds")
    ap.add_argument("--peer", default="faceapi", choices=["faceapi", "human", "none"])
    args = ap.parse_args()
    import facekit
    models = peers.peers_ready()
    eng = facekit.Engine()
    images = peers.make_images(eng, peers.SHARED / "faces-dev" / "obama" / "obama1.jpg",
                               peers.SHARED / "faces-large" / "face" / "celebahq1024-27705.jpg")
    node = peers.Proc(["node", "--expose-gc", str(peers.HERE / "worker.js"), str(models)], cwd=peers.HERE)
    ms = {i: [] for i in range(len(images))}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (_, img, _) in enumerate(images):
            raw = Path(tmp) / f"{i}.rgb"
            np.ascontiguousarray(img[:, :, ::-1]).tofile(raw)
            node.call(op="load", key=str(i), path=str(raw), w=img.shape[1], h=img.shape[0])
        for r in range(2 + args.rounds):
            for i, (_, img, multi) in enumerate(images):
                time.sleep(0.2)
                t = peers.time_facekit(eng, img, multi)[0]
                if r >= 2:
                    ms[i].append(t)
                if args.peer != "none":
                    time.sleep(0.2)
                    node.call(op="run", lib=args.peer, key=str(i), multi=multi)
    node.close()
    print(f"facekit after {args.peer}, {args.rounds} rounds; median [min-max] ms")
    for i, (name, img, _) in enumerate(images):
        xs = ms[i]
        print(f"{name} {img.shape[1]}x{img.shape[0]}: {statistics.median(xs):.1f} [{min(xs):.1f}-{max(xs):.1f}]")


if __name__ == "__main__":
    sys.exit(main())
