"""Engine.extract on the peers' 640x480 one-face image: back to back, after a group-photo
detection, and after a 0.3 s pause (the conditions of bench/peers/run.py). Backs the reading
of the peers table in docs/BENCHMARKS.md. Try it under OMP_WAIT_POLICY / GOMP_SPINCOUNT
settings (set OMP_WAIT_POLICY to anything but PASSIVE / ACTIVE to let GOMP_SPINCOUNT count).

usage: .venv/bin/python bench/engine/after_pause.py [--runs 5]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
import run as peers  # noqa: E402

import facekit  # noqa: E402


def ms(f):
    t0 = time.perf_counter()
    f()
    return round((time.perf_counter() - t0) * 1e3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    eng = facekit.Engine()
    images = peers.make_images(eng, peers.SHARED / "faces-dev" / "obama" / "obama1.jpg",
                               peers.SHARED / "faces-large" / "face" / "celebahq1024-27705.jpg")
    one, group = images[0][1], images[2][1]
    print("OMP_WAIT_POLICY", os.environ.get("OMP_WAIT_POLICY"), "GOMP_SPINCOUNT", os.environ.get("GOMP_SPINCOUNT"))
    print("back to back ms:", [ms(lambda: eng.extract(one)) for _ in range(args.runs)])
    out = []
    for _ in range(args.runs):
        eng.detect(group, min_face=80, max_face=300)
        out.append(ms(lambda: eng.extract(one)))
    print("after a group photo ms:", out)
    out = []
    for _ in range(args.runs):
        time.sleep(0.3)
        out.append(ms(lambda: eng.extract(one)))
    print("after a 0.3 s pause ms:", out)


if __name__ == "__main__":
    main()
