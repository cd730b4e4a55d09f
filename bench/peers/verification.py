#!/usr/bin/env python3
"""Verification accuracy of facekit against face-api 1.7.15 and Human 3.3.6 on the same photos.

usage: .venv/bin/python bench/peers/verification.py [--orl] [--json OUT]

Each pipeline describes each photo on its own, as its one-face path does for a user:
  facekit   Engine.extract_one(img): the server's one-call plan, accurate descriptor (default)
  face-api  detectSingleFace (SSD MobileNetV1) .withFaceLandmarks() .withFaceDescriptor() (dlib ResNet)
  Human     blazeface -> facemesh -> faceres embedding, maxDetected 1
Photos are loaded as bench/accuracy/verification.py loads them (small crops upscaled and padded).
Extra impostor identities: each face of the face-api sample group photos (found by facekit at
min_face 40), cut out with a margin of one face side and given to every pipeline as its own photo.
A photo in which a pipeline finds no face counts against it: its genuine pairs are rejected.
Reports, per set and pipeline: photos without a face, AUC, EER and TAR at FAR 1e-2 / 1e-3 / 1e-4
(cosine for facekit and Human, -euclidean distance for face-api, its own metric).
"""
import argparse
import importlib.util
import itertools
import json
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "accuracy"))
sys.path.insert(0, str(HERE))
import datasets  # noqa: E402
import run as peers  # noqa: E402

# bench/accuracy/verification.py's ROC figures (loaded by path: this file has the same name)
_spec = importlib.util.spec_from_file_location("accuracy_verification", HERE.parent / "accuracy" / "verification.py")
_acc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_acc)
roc_figures = _acc.roc_figures

PIPES = ["facekit", "face-api", "human"]


def group_crops(eng):
    """[(label, BGR crop)] of every face of the sample group photos, a face side of margin around it."""
    out = []
    for path in datasets.sample_group_photos():
        img = datasets.load(path)
        h, w = img.shape[:2]
        for i, f in enumerate(eng.detect(img, min_face=40, max_face=600)):
            b = f.box
            x0, y0 = max(int(b.left - b.width), 0), max(int(b.top - b.height), 0)
            x1, y1 = min(int(b.left + 2 * b.width), w), min(int(b.top + 2 * b.height), h)
            out.append((f"{os.path.basename(path)}#{i}", np.ascontiguousarray(img[y0:y1, x0:x1])))
    return out


def describe_all(eng, node, photos, tmp):
    """{pipe: [unit-or-raw descriptor or None]} for each (label, image)."""
    out = {p: [] for p in PIPES}
    import facekit
    for k, (_, img) in enumerate(photos):
        try:
            out["facekit"].append(np.asarray(eng.extract_one(img, None), np.float32))
        except facekit.FacekitError:
            out["facekit"].append(None)
        raw = Path(tmp) / "img.rgb"
        np.ascontiguousarray(img[:, :, ::-1]).tofile(raw)
        for lib, pipe in (("faceapi", "face-api"), ("human", "human")):
            node.call(op="load", key="v", path=str(raw), w=img.shape[1], h=img.shape[0])
            d = node.call(op="describe", lib=lib, key="v")["descriptor"]
            out[pipe].append(None if d is None else np.asarray(d, np.float32))
        if (k + 1) % 50 == 0:
            print(f"  {k + 1}/{len(photos)} photos", file=sys.stderr, flush=True)
    return out


def pair_scores(pipe, descs, labels):
    """Genuine and impostor scores; a pair with a face missing is a rejected genuine / no impostor."""
    gen, imp = [], []
    for i, j in itertools.combinations(range(len(labels)), 2):
        a, b = descs[i], descs[j]
        same = labels[i] == labels[j]
        if a is None or b is None:
            if same:
                gen.append(-np.inf)
            continue
        if pipe == "face-api":
            s = -float(np.linalg.norm(a - b))  # face-api's own metric: euclidean distance
        else:
            s = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
        (gen if same else imp).append(s)
    return np.array(gen), np.array(imp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orl", action="store_true", help="also ORL (400 grey faces, slower)")
    ap.add_argument("--json")
    args = ap.parse_args()
    import facekit
    models = peers.peers_ready()
    eng = facekit.Engine()
    node = peers.Proc(["node", "--expose-gc", str(HERE / "worker.js"), str(models)], cwd=HERE)
    sets = {"faces-dev": (datasets.faces_dev(), 200, 0.3)}
    if args.orl:
        sets["ORL"] = (datasets.orl(), 224, 0.3)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        extra = group_crops(eng)
        extra_desc = describe_all(eng, node, extra, tmp)
        for name, (items, min_side, pad) in sets.items():
            photos = [(ident, datasets.load(p, min_side, pad)) for ident, p in items]
            descs = describe_all(eng, node, photos, tmp)
            labels = [ident for ident, _ in photos] + [lab for lab, _ in extra]
            found_by_all = [all(descs[p][i] is not None for p in PIPES)
                            for i in range(len(photos))] + [all(extra_desc[p][i] is not None for p in PIPES)
                                                            for i in range(len(extra))]
            results[name] = {}
            for pipe in PIPES:
                d = descs[pipe] + extra_desc[pipe]
                r = roc_figures(*pair_scores(pipe, d, labels))
                r["no_face"] = sum(x is None for x in descs[pipe])
                r["photos"] = len(photos)
                results[name][pipe] = r
                # the same figures on the photos where every pipeline found a face
                keep = [i for i, ok in enumerate(found_by_all) if ok]
                c = roc_figures(*pair_scores(pipe, [d[i] for i in keep], [labels[i] for i in keep]))
                c["no_face"], c["photos"] = 0, sum(found_by_all[:len(photos)])
                results[name + " (faces every pipeline found)"] = results.get(name + " (faces every pipeline found)", {})
                results[name + " (faces every pipeline found)"][pipe] = c
    node.close()
    print(f"| set + {len(extra)} group faces | pipeline | photos without a face | genuine / impostor pairs | AUC | EER | "
          "TAR@FAR1e-2 | TAR@FAR1e-3 | TAR@FAR1e-4 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, per in results.items():
        for pipe, r in per.items():
            print(f"| {name} | {pipe} | {r['no_face']} / {r['photos']} | {r['genuine']} / {r['impostor']} | {r['auc']:.5f} | "
                  f"{r['eer']:.4f} | {r['tar@0.01']:.3f} | {r['tar@0.001']:.3f} | {r['tar@0.0001']:.3f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
