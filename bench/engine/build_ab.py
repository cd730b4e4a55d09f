"""Two builds of facekit side by side: budgets.py's calls (the one-face extract, the headshot at
the default range and in portrait mode, the group photo at min_face 40 and 20), each build in
its own process, the processes alternating, medians per call and the ratio of the medians per
pair. A kernel change that keeps every float (no switch to turn it off) is timed this way
against the build before it; this VM's speed drifts by 20-40 % within minutes, so only pairs
run side by side are compared.

usage: .venv/bin/python bench/engine/build_ab.py OLD_PACKAGE_DIR NEW_PACKAGE_DIR [--pairs 3] [--runs 11]
(a folder holding a `facekit` package: e.g. a copy of .venv/lib/python3.11/site-packages/facekit
made before the change, in OLD/facekit, and one after, in NEW/facekit)
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = ["640x480 one face, Engine.extract (accurate)", "1024x1024 headshot, min_face 20 (Engine.detect's default)",
        "1024x1024 headshot, portrait mode", "1920x1080 group photo, min_face 40", "1920x1080 group photo, min_face 20"]


def child(runs):
    sys.path.insert(1, HERE)
    sys.path.insert(1, os.path.join(HERE, ".."))
    sys.path.insert(1, os.path.join(HERE, "..", "accuracy"))
    import budgets
    import facekit
    eng = facekit.Engine()
    one, head, group = budgets.images()
    calls = [lambda: eng.extract(one), lambda: eng.detect(head, min_face=20, max_face=2048),
             lambda: eng.detect(head, portrait=True), lambda: eng.detect(group, min_face=40, max_face=300),
             lambda: eng.detect(group, min_face=20, max_face=300)]
    out = [budgets.median_ms(f, runs)[0] for f in calls]
    json.dump({"package": os.path.dirname(facekit.__file__), "ms": out}, sys.stdout)


def run(package_dir, runs):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(package_dir))
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--runs", str(runs)], env=env,
                         check=True, capture_output=True, text=True).stdout
    got = json.loads(out)
    if not got["package"].startswith(os.path.abspath(package_dir)):
        raise SystemExit(f"{package_dir}: the child imported facekit from {got['package']}")
    return got["ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", nargs="?")
    ap.add_argument("new", nargs="?")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.runs)
        return
    if not args.old or not args.new:
        ap.error("give OLD_PACKAGE_DIR and NEW_PACKAGE_DIR")
    sys.path.insert(0, os.path.join(HERE, ".."))
    import cpu
    print(f"CPU: {cpu.summary()}; {args.pairs} pairs, medians of {args.runs} calls, old {args.old}, new {args.new}")
    old, new = [], []
    for _ in range(args.pairs):
        old.append(run(args.old, args.runs))
        new.append(run(args.new, args.runs))
    print("| call | old ms | new ms | new / old, per pair |\n|---|---|---|---|")
    for i, name in enumerate(ROWS):
        o, n = [p[i] for p in old], [p[i] for p in new]
        ratios = [b / a for a, b in zip(o, n)]
        print(f"| {name} | {', '.join(f'{v:.1f}' for v in o)} | {', '.join(f'{v:.1f}' for v in n)} | "
              f"{', '.join(f'{r:.2f}' for r in ratios)} (median {np.median(ratios):.2f}) |")


if __name__ == "__main__":
    main()
