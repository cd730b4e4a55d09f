"""Where the time of each budget call (bench/engine/budgets.py) goes: each model's share and
the rest (resampling, crops, decoding, Python), medians over runs.

usage: .venv/bin/python bench/engine/stages.py [--runs 15]

The engine logs one stderr line per model call when FACEKIT_LOG_MODEL_CALLS=1
(cpp/src/models/runtime.cpp); this script runs the calls in a child process with it set and
reads those lines. Model times inside the accurate descriptor overlap (MobileFaceNet and dlib run
side by side), so their sum can exceed the call's time.
"""
import argparse
import collections
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import cpu  # noqa: E402
MARK = "facekit-stages"


def child(runs):
    sys.path.insert(0, HERE)
    import budgets  # noqa: E402 (its images and calls)
    import facekit

    eng = facekit.Engine()
    fast = facekit.Engine(descriptor="fast")
    one, head, group = budgets.images()
    cases = [
        ("640x480 one face, Engine.extract, accurate", lambda: eng.extract(one)),
        ("640x480 one face, Engine.extract, fast", lambda: fast.extract(one)),
        ("1024x1024 headshot, portrait mode", lambda: eng.detect(head, portrait=True)),
        ("1024x1024 headshot, min_face 80, max 2048", lambda: eng.detect(head, min_face=80, max_face=2048)),
        ("1024x1024 headshot, min_face 20 (Engine.detect's default), max 2048",
         lambda: eng.detect(head, min_face=20, max_face=2048)),
        ("1920x1080 group photo, min_face 40", lambda: eng.detect(group, min_face=40, max_face=300)),
        ("1920x1080 group photo, min_face 20", lambda: eng.detect(group, min_face=20, max_face=300)),
    ]
    for name, call in cases:
        call()
        call()
        for _ in range(runs):
            print(f"{MARK} start {name}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            call()
            ms = (time.perf_counter() - t0) * 1000
            print(f"{MARK} end {ms:.3f}", file=sys.stderr, flush=True)


def parse(lines):
    """{case: [(total ms, {model: ms}, {model: calls})]} from the child's stderr."""
    out = collections.defaultdict(list)
    case, models, calls = None, None, None
    for line in lines:
        if line.startswith(f"{MARK} start "):
            case, models, calls = line[len(MARK) + 7:].strip(), collections.Counter(), collections.Counter()
        elif line.startswith(f"{MARK} end ") and case:
            out[case].append((float(line.split()[2]), models, calls))
            case = None
        elif line.startswith("facekit model ") and case:
            parts = line.split()
            models[f"{parts[2]} {parts[3]}"] += float(parts[4])
            calls[f"{parts[2]} {parts[3]}"] += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.runs)
        return
    env = dict(os.environ, FACEKIT_LOG_MODEL_CALLS="1")
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--runs", str(args.runs)],
                          env=env, stderr=subprocess.PIPE, text=True, check=True)
    print(f"CPU: {cpu.summary()}")
    print(f"{args.runs} runs each, load average {os.getloadavg()[0]:.1f}; medians in ms")
    print("| call | model (input) | calls per run | median ms |")
    print("|---|---|---|---|")
    for case, runs in parse(proc.stderr.splitlines()).items():
        total = float(np.median([t for t, _, _ in runs]))
        keys = sorted({k for _, m, _ in runs for k in m}, key=lambda k: -np.median([m.get(k, 0) for _, m, _ in runs]))
        inside = float(np.median([sum(m.values()) for _, m, _ in runs]))
        print(f"| {case} | **whole call** | | **{total:.1f}** |")
        for k in keys:
            n = np.median([c.get(k, 0) for _, _, c in runs])
            print(f"| | {k} | {n:g} | {np.median([m.get(k, 0) for _, m, _ in runs]):.1f} |")
        print(f"| | outside the models (whole call - sum of models; < 0 where models ran side by side) | | {total - inside:.1f} |")


if __name__ == "__main__":
    main()
