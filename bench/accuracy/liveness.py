"""Liveness signals and decisions (facekit/liveness.h) on real labelled photos.

usage: python bench/accuracy/liveness.py
- blink: eye state (both closed / both open / unclear) of shared/data/blink (labels in the
  file names) and of the faces-dev portraits (eyes open, checked by eye);
- nod / shake: the action test on every pair of shared/data/head-pose (AFLW2000) photos,
  against the pairs' true pitch / yaw change (>= 10 / 15 degrees);
- mouth: mouth state of the faces-dev portraits, and the ORL pairs used by the conformance test;
- spoof: the anti-spoofing check (min_real) on NUAA live and printed-photo crops and on faces-dev.
"""
import csv
import glob
import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import facekit  # noqa: E402

RULES = dict(eye_closed_max=0.118, eye_open_min=0.125, mouth_closed_max=0.10, mouth_open_min=0.25, min_real=0.25)


def signals(eng, path):
    try:
        return eng.live_signals(path)
    except facekit.FacekitError:
        return None


def eye_state(s):
    lo, hi = min(s.eye_open), max(s.eye_open)
    return "closed" if hi <= RULES["eye_closed_max"] else "open" if lo >= RULES["eye_open_min"] else "unclear"


def mouth_state(s):
    m = s.mouth_open
    return "closed" if m <= RULES["mouth_closed_max"] else "open" if m >= RULES["mouth_open_min"] else "unclear"


def blink(eng):
    truth = {"both_blink.jpg": "closed", "granger.jpg": "open", "left_blink2.jpg": "one closed",
             "right_blink.jpg": "one closed"}
    print("blink, shared/data/blink (eye openness: image-left, image-right; closed <= 0.118, open >= 0.125):")
    for p in sorted(glob.glob(os.path.join(datasets.SHARED, "blink", "*.jpg"))):
        s = signals(eng, p)
        name = os.path.basename(p)
        print(f"  {name}: label {truth.get(name, '?')}, read {eye_state(s)} ({s.eye_open[0]:.3f}, {s.eye_open[1]:.3f})")
    counts = {"open": 0, "closed": 0, "unclear": 0}
    for _, p in datasets.faces_dev():
        s = signals(eng, p)
        if s:
            counts[eye_state(s)] += 1
    print(f"  faces-dev portraits (eyes open by eye): read {counts}")


def head_actions(eng):
    base = os.path.join(datasets.SHARED, "head-pose")
    rows = list(csv.DictReader(open(os.path.join(base, "pose_degrees.csv"))))
    got = []
    for r in rows:
        s = signals(eng, os.path.join(base, "images", r["file"]))
        if s:
            got.append((float(r["yaw_deg"]), float(r["pitch_deg"]), s.face.quality.yaw, s.face.quality.pitch))
    for name, k, need in (("shake", 0, 15.0), ("nod", 1, 10.0)):
        tp = fp = tn = fn = 0
        for a, b in itertools.combinations(got, 2):
            truth = abs(a[k] - b[k]) >= need
            read = abs(a[k + 2] - b[k + 2]) >= need
            tp += truth and read
            fn += truth and not read
            fp += read and not truth
            tn += not truth and not read
        n = tp + fp + tn + fn
        print(f"{name} (change >= {need:.0f} deg) on {n} AFLW2000 pairs ({len(got)}/{len(rows)} faces found): "
              f"accuracy {(tp + tn) / n:.3f}; action pairs passed {tp}/{tp + fn}, still pairs passed {fp}/{fp + tn}")


def mouth(eng):
    counts = {"open": [], "closed": [], "unclear": []}
    for _, p in datasets.faces_dev():
        s = signals(eng, p)
        if s:
            counts[mouth_state(s)].append(os.path.relpath(p, os.path.join(datasets.SHARED, "faces-dev")))
    print("mouth state of faces-dev portraits: " + ", ".join(f"{k} {len(v)}" for k, v in counts.items()))
    print(f"  read open: {counts['open']}")
    for s_, a, b in (("s7", 1, 2), ("s2", 2, 5), ("s5", 8, 1)):
        sa = signals(eng, os.path.join(datasets.SHARED, "orl-faces", s_, f"{a}.pgm"))
        sb = signals(eng, os.path.join(datasets.SHARED, "orl-faces", s_, f"{b}.pgm"))
        print(f"  ORL {s_} {a} -> {b}: mouth {sa.mouth_open:.2f} -> {sb.mouth_open:.2f}")


def spoof(eng):
    def rate(paths):
        scores = [s.real for s in (signals(eng, p) for p in paths) if s]
        return sum(x >= RULES["min_real"] for x in scores), len(scores)
    nuaa = os.path.join(datasets.SHARED, "spoof-nuaa")
    for name, paths in (("NUAA live", glob.glob(os.path.join(nuaa, "ClientFace", "*", "*.jpg"))),
                        ("NUAA printed photos", glob.glob(os.path.join(nuaa, "ImposterFace", "*", "*.jpg"))),
                        ("faces-dev portraits", [p for _, p in datasets.faces_dev()])):
        ok, n = rate(sorted(paths))
        print(f"anti-spoofing (real >= {RULES['min_real']}): {name}: {ok}/{n} judged real")


def main():
    eng = facekit.Engine()
    blink(eng)
    head_actions(eng)
    mouth(eng)
    spoof(eng)


if __name__ == "__main__":
    main()
