"""Engine.extract on a 640x480 one-face photo under 0, 1 and 2 busy processes: facekit's
thread policy against the one it replaced, alternating, one fresh process per measurement.

usage: .venv/bin/python bench/engine/load_policy.py [--rounds 3] [--hogs 0,1,2]

Policies:
- adaptive (the default since 2026-11-30): OpenMP's default wait policy (threads spin a
  little before they sleep) and each model call on all cores when the machine is idle, on one
  thread while other processes or other calls are busy (cpp/src/models/team_size.h);
- passive-fixed (before): OMP_WAIT_POLICY=PASSIVE and every call on all cores
  (FACEKIT_FIXED_THREADS=1).

Each measurement prints the median of 15 back-to-back calls and of 6 calls that each follow a
0.3 s pause (a client's single requests). A "hog" is a shell loop spinning on one core.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

POLICIES = {
    "adaptive": {},
    "passive-fixed": {"OMP_WAIT_POLICY": "PASSIVE", "FACEKIT_FIXED_THREADS": "1"},
}

CHILD = r"""
import sys, time
sys.path.insert(0, %r)
import numpy as np
import budgets, facekit
one = budgets.images()[0]
eng = facekit.Engine()
for _ in range(3): eng.extract(one)
b2b = []
for _ in range(15):
    t = time.perf_counter(); eng.extract(one); b2b.append((time.perf_counter() - t) * 1e3)
paused = []
for _ in range(6):
    time.sleep(0.3)
    t = time.perf_counter(); eng.extract(one); paused.append((time.perf_counter() - t) * 1e3)
print(np.median(b2b), np.median(paused))
"""


def measure(policy):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "FACEKIT_FIXED_THREADS")}
    env.update(POLICIES[policy])
    code = CHILD % os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    b2b, paused = map(float, out.stdout.split()[-2:])
    return b2b, paused


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hogs", default="0,1,2")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, {args.rounds} rounds, policies alternating; medians of the rounds' medians, ms")
    print("| busy processes | policy | back to back | after a 0.3 s pause |")
    print("|---|---|---|---|")
    for hogs in [int(h) for h in args.hogs.split(",")]:
        procs = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(hogs)]
        try:
            time.sleep(2)
            got = {p: [] for p in POLICIES}
            for _ in range(args.rounds):
                for p in POLICIES:
                    got[p].append(measure(p))
            for p, rows in got.items():
                rows = np.array(rows)
                spread = lambda c: f"{np.median(c):.1f} ({c.min():.0f}-{c.max():.0f})"  # noqa: E731
                print(f"| {hogs} | {p} | {spread(rows[:, 0])} | {spread(rows[:, 1])} |", flush=True)
        finally:
            for pr in procs:
                pr.kill()
                pr.wait()


if __name__ == "__main__":
    main()
