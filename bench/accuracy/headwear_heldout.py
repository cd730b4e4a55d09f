"""Held-out check of the hairstyle classifier's `hat` on photos it was not trained on.

usage: .venv/bin/python bench/accuracy/headwear_heldout.py

tests/data/headwear_labels.json: 412 photos of shared/data (glasses-dev, faces-large, the UTK
chips, head-pose), each labelled by eye hat / no hat. hair.py's EXTRA faces (training data) are
left out. Prints, per source, what Engine.hair_style answers for the hats and for the rest.
"""
import collections
import json
import os
import sys

import cv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
from hair import EXTRA  # noqa: E402

import facekit  # noqa: E402


def main():
    labels = json.load(open(os.path.join(datasets.ROOT, "tests", "data", "headwear_labels.json")))["faces"]
    trained = {p for p, _ in EXTRA}
    eng = facekit.Engine()
    table = collections.defaultdict(collections.Counter)
    for item in labels:
        if item["file"] in trained:
            continue
        img = cv2.imread(os.path.join(datasets.SHARED, item["file"]))
        faces = eng.detect(img, min_face=20, max_face=4000)
        if not faces:
            answer = "no face"
        else:
            face = max(faces, key=lambda f: f.box.width * f.box.height)
            answer = eng.hair_style(img, face)
        parts = item["file"].split("/")
        source = "hats (all sources)" if item["hat"] else "/".join(parts[:2]) if parts[0] == "glasses-dev" else parts[0]
        table[source][answer] += 1
    answers = ["shortHair", "longHair", "hat", "braids", "no face"]
    print("| photos | n | " + " | ".join(answers) + " |\n|---|---|" + "---|" * len(answers))
    for source, c in sorted(table.items()):
        print(f"| {source} | {sum(c.values())} | " + " | ".join(str(c[a]) for a in answers) + " |")


if __name__ == "__main__":
    main()
