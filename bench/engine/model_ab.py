"""Two model folders side by side in one process: Engine.extract on budgets.py's 640x480 photo,
calls alternating (A B B A ...), medians and the ratio. This VM's speed drifts by 20-40 % within
minutes, so a conversion change is timed against the previous one in the same run, not
against a figure from another hour.

usage: .venv/bin/python bench/engine/model_ab.py OLD_MODEL_DIR NEW_MODEL_DIR [--runs 60]
(a converted folder: models/dist, or one of $FACEKIT_CACHE/models/<key>/)
       .venv/bin/python bench/engine/model_ab.py --earlier [MODEL_DIR] [--runs 60]
(one folder: A = the descriptors before 2026-12-01, faceres + dlib and faceres; B = today's,
MobileFaceNet + dlib and MobileFaceNet)
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import budgets  # noqa: E402

import facekit  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", nargs="?")
    ap.add_argument("new", nargs="?")
    ap.add_argument("--earlier", action="store_true",
                    help="one model folder (OLD_MODEL_DIR, default the bundled one): earlier descriptors vs today's")
    ap.add_argument("--runs", type=int, default=60)
    args = ap.parse_args()
    if not args.earlier and not (args.old and args.new):
        ap.error("two model folders, or --earlier")
    one, _, _ = budgets.images()
    if args.earlier:
        folder = args.old or facekit.model_dir()
        pairs = {"accurate": (("faceres+dlib", folder), ("accurate", folder)),
                 "fast": (("faceres", folder), ("fast", folder))}
        print(f"A = the earlier descriptor, B = today's, models in {folder}")
    else:
        pairs = {d: ((d, args.old), (d, args.new)) for d in ("accurate", "fast")}
        print(f"A = {args.old}\nB = {args.new}")
    print(f"{args.runs} calls each, alternating, load average {os.getloadavg()[0]:.1f}")
    print("| call | A median ms | B median ms | B / A |\n|---|---|---|---|")
    for descriptor, ((desc_a, dir_a), (desc_b, dir_b)) in pairs.items():
        engines = {"A": facekit.Engine(dir_a, descriptor=desc_a), "B": facekit.Engine(dir_b, descriptor=desc_b)}
        landmarks = engines["A"].largest_face(one).landmarks
        calls = {f"Engine.extract, {descriptor}": lambda e: e.extract(one),
                 f"  descriptor only, {descriptor}": lambda e: e.extract(one, landmarks)}
        for label, call in calls.items():
            ms = {"A": [], "B": []}
            for e in engines.values():
                call(e)
                call(e)
            for i in range(args.runs):
                for k in ("A", "B") if i % 2 == 0 else ("B", "A"):
                    t0 = time.perf_counter()
                    call(engines[k])
                    ms[k].append((time.perf_counter() - t0) * 1000)
            a, b = float(np.median(ms["A"])), float(np.median(ms["B"]))
            print(f"| {label} | {a:.1f} | {b:.1f} | {b / a:.2f} |", flush=True)


if __name__ == "__main__":
    main()
