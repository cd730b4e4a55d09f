"""Hairstyle rule (cpp/src/analyze/hair.h) on hand-labelled real faces (tests/data/hair_labels.json:
the face-api sample photos and faces-dev).

usage: python bench/accuracy/hair.py
Prints the confusion matrix over the protocol's four classes. The rule's threshold was chosen
on these same faces (a small grid of band sizes and colour distances), so the figure is an
in-sample one: expect less on other photos.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import facekit  # noqa: E402

CLASSES = ["shortHair", "longHair", "hat", "braids"]


def path_of(name):
    if name.startswith("face-api:"):
        return os.path.join(datasets.SAMPLES, name.split(":", 1)[1])
    return os.path.join(datasets.SHARED, name)


def labelled_faces(engine):
    """(face, image path, label) for each labelled face, found by its centre."""
    labels = json.load(open(os.path.join(datasets.ROOT, "tests", "data", "hair_labels.json")))["faces"]
    out, cache = [], {}
    for item in labels:
        p = path_of(item["file"])
        if p not in cache:
            cache[p] = engine.detect(p, min_face=40, max_face=4000)
        cx, cy = item["center"]
        hits = [f for f in cache[p] if f.box.left <= cx <= f.box.left + f.box.width
                and f.box.top <= cy <= f.box.top + f.box.height]
        if hits:
            out.append((hits[0], p, item["hair"]))
        else:
            out.append((None, p, item["hair"]))
    return out


def main():
    engine = facekit.Engine()
    matrix = {a: {b: 0 for b in CLASSES + ["no face"]} for a in CLASSES}
    for face, path, label in labelled_faces(engine):
        got = engine.hair_style(path, face) if face is not None else "no face"
        matrix[label][got] += 1
    n = sum(sum(r.values()) for r in matrix.values())
    right = sum(matrix[c][c] for c in CLASSES)
    print(f"hairstyle on {n} hand-labelled faces: accuracy {right / n:.3f}")
    print("label \\ predicted | " + " | ".join(CLASSES + ["no face"]))
    for c in CLASSES:
        if sum(matrix[c].values()):
            print(f"{c} | " + " | ".join(str(matrix[c][k]) for k in CLASSES + ["no face"]))


if __name__ == "__main__":
    main()
