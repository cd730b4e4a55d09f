"""Does a 256-d projection of the accurate (fused, 1152-d) descriptor keep its accuracy?
(The spec's optional 256-d output; issue 17: offer it only if TAR @ FAR 1e-3 stays within
0.002.)

usage: python bench/accuracy/projection.py

PCA fitted on one set's faces (ORL or faces-dev, with the group photos' faces), applied to the
other set: the projection is judged on faces it never saw. Rows: TAR @ FAR 1e-3 and AUC of the
full vector and of its projections to 512 / 256 / 128 dimensions (renormalised).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
from verification import collect, group_faces, pair_scores, roc_figures  # noqa: E402

import facekit  # noqa: E402


def pca(x, k):
    mean = x.mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    return mean, vt[:k].T


def main():
    eng = facekit.Engine()
    extra, extra_labels = group_faces(eng)
    sets = {"faces-dev": collect(eng, datasets.faces_dev(), 200, 0.3), "ORL": collect(eng, datasets.orl(), 224, 0.3)}
    print("| fitted on | measured on | dimensions | TAR@FAR1e-3 | AUC |\n|---|---|---|---|---|")
    for fit, test in (("ORL", "faces-dev"), ("faces-dev", "ORL")):
        train = np.concatenate([sets[fit][0]["accurate"], extra["accurate"]])
        feats = np.concatenate([sets[test][0]["accurate"], extra["accurate"]])
        labels = sets[test][1] + extra_labels
        r = roc_figures(*pair_scores(feats, labels))
        print(f"| — | {test} | 1152 | {r['tar@0.001']:.3f} | {r['auc']:.5f} |")
        for k in (512, 256, 128):
            mean, basis = pca(train, k)
            p = (feats - mean) @ basis
            p /= np.linalg.norm(p, axis=1, keepdims=True)
            r = roc_figures(*pair_scores(p, labels))
            print(f"| {fit} | {test} | {k} | {r['tar@0.001']:.3f} | {r['auc']:.5f} |", flush=True)


if __name__ == "__main__":
    main()
