"""How often a call's thread sleeps: the calling thread's voluntary context switches over
repeated calls (Linux, /proc/self/status). A sleep in the middle of a call is a team thread
waiting on a lock (malloc's arena, a mutex) instead of working; on this VM each costs tens of
microseconds. Compare two builds by putting either package first on the path:
PYTHONPATH=OLD_DIR .venv/bin/python bench/engine/context_switches.py

usage: .venv/bin/python bench/engine/context_switches.py [--calls 200]
"""
import argparse
import os
import sys

import cv2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "accuracy"))
import datasets  # noqa: E402

import facekit  # noqa: E402


def voluntary_switches():
    # The first line of that name: the calling thread's (the process's main thread here).
    status = open("/proc/self/status").read()
    return int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    eng = facekit.Engine()
    head = cv2.imread(os.path.join(datasets.SHARED, "faces-large", "face", "celebahq1024-27705.jpg"))
    one = cv2.resize(head, (640, 480), interpolation=cv2.INTER_AREA)
    print(f"facekit from {os.path.dirname(facekit.__file__)}, {args.calls} calls each")
    for name, call in [("1024x1024 headshot, Engine.detect defaults", lambda: eng.detect(head)),
                       ("the headshot at 640x480, Engine.extract", lambda: eng.extract(one))]:
        for _ in range(3):
            call()
        before = voluntary_switches()
        for _ in range(args.calls):
            call()
        print(f"{name}: {voluntary_switches() - before} voluntary context switches of the calling thread")


if __name__ == "__main__":
    main()
