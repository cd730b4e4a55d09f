"""Two model folders side by side in one process: Engine.extract on budgets.py's 640x480 photo,
calls alternating (A B B A ...), medians and the ratio. This VM's speed drifts by 20-40 % within
minutes, so a conversion change is timed against the previous one in the same run, not
against a figure from another hour.

usage: .venv/bin/python bench/engine/model_ab.py OLD_MODEL_DIR NEW_MODEL_DIR [--runs 60]
(a converted folder: models/dist, or one of $FACEKIT_CACHE/models/<key>/)
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
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--runs", type=int, default=60)
    args = ap.parse_args()
    one, _, _ = budgets.images()
    print(f"A = {args.old}\nB = {args.new}\n{args.runs} calls each, alternating, load average {os.getloadavg()[0]:.1f}")
    print("| call | A median ms | B median ms | B / A |\n|---|---|---|---|")
    for descriptor in ("accurate", "fast"):
        engines = {"A": facekit.Engine(args.old, descriptor=descriptor), "B": facekit.Engine(args.new, descriptor=descriptor)}
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
