"""Verification accuracy of facekit's descriptor candidates on real labelled photos.

usage: python bench/accuracy/verification.py [--orl] [--json OUT]

Faces come from facekit's own detector and 5 points. Candidates: faceres (the engine's
descriptor, ArcFace-template x2 crop, BGR - caffe means), mobileface (ArcFace 112 crop,
BGR 0..255) and their fusion (sum of z-normalised cosines). Pairs: every genuine and
impostor pair within each set, plus the face-api sample group photos' faces as extra
identities (impostor pairs only). Reports AUC, EER, TAR at FAR 1e-2 / 1e-3 and the cosine
threshold at FAR 1e-3.
"""
import argparse
import itertools
import json
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import facekit  # noqa: E402

ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                    [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def similarity(src, dst):
    """Least-squares similarity (Umeyama), as the engine's align.cpp."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    var = (s ** 2).sum()
    a = (s * d).sum()
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()
    c, sn = a / var, b / var
    return np.array([[c, -sn, md[0] - (c * ms[0] - sn * ms[1])], [sn, c, md[1] - (sn * ms[0] + c * ms[1])]], np.float32)


def mobileface(rt, img, lm):
    crop = cv2.warpAffine(img, similarity(lm, ARCFACE), (112, 112))
    v = rt.run("mobileface", crop[None].astype(np.float32))[0][0]
    return v / np.linalg.norm(v)


def collect(eng, rt, items, min_side, pad):
    feats, labels, missed = {"faceres": [], "mobileface": []}, [], 0
    for ident, path in items:
        img = datasets.load(path, min_side, pad)
        try:
            face = eng.largest_face(img)
        except facekit.FacekitError:
            missed += 1
            continue
        lm = face.landmarks
        feats["faceres"].append(eng.extract_one(img, lm))
        feats["mobileface"].append(mobileface(rt, img, lm))
        labels.append(ident)
    return {k: np.array(v) for k, v in feats.items()}, labels, missed


def group_faces(eng, rt):
    feats, labels = {"faceres": [], "mobileface": []}, []
    for path in datasets.sample_group_photos():
        img = datasets.load(path)
        for i, face in enumerate(eng.detect(img, min_face=40, max_face=600)):
            feats["faceres"].append(eng.extract_one(img, face.landmarks))
            feats["mobileface"].append(mobileface(rt, img, face.landmarks))
            labels.append(f"{os.path.basename(path)}#{i}")
    return {k: np.array(v) for k, v in feats.items()}, labels


def pair_scores(f, labels):
    sims = f @ f.T
    gen, imp = [], []
    for i, j in itertools.combinations(range(len(labels)), 2):
        (gen if labels[i] == labels[j] else imp).append(sims[i, j])
    return np.array(gen), np.array(imp)


def roc_figures(gen, imp):
    imp_sorted = np.sort(imp)[::-1]
    out = {"genuine": int(len(gen)), "impostor": int(len(imp))}
    for far in (1e-2, 1e-3):
        k = int(np.floor(far * len(imp)))
        thr = imp_sorted[k] if k < len(imp) else imp_sorted[-1]  # at most k impostors strictly above
        out[f"tar@{far:g}"] = float((gen > thr).mean())
        out[f"thr@{far:g}"] = float(thr)
    scores = np.concatenate([gen, imp])
    y = np.concatenate([np.ones(len(gen)), np.zeros(len(imp))])
    order = np.argsort(-scores)
    tp = np.cumsum(y[order]) / len(gen)
    fp = np.cumsum(1 - y[order]) / len(imp)
    out["auc"] = float(np.trapz(tp, fp))
    eer_idx = np.argmin(np.abs((1 - tp) - fp))
    out["eer"] = float((1 - tp[eer_idx] + fp[eer_idx]) / 2)
    return out


def fused(gen_imp_a, gen_imp_b):
    """Sum of z-normalised cosines (normalised by each model's impostor distribution)."""
    (ga, ia), (gb, ib) = gen_imp_a, gen_imp_b
    za = lambda x: (x - ia.mean()) / ia.std()  # noqa: E731
    zb = lambda x: (x - ib.mean()) / ib.std()  # noqa: E731
    return za(ga) + zb(gb), za(ia) + zb(ib)


def cosine_of_score(eng, score):
    lo, hi = -1.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if eng.score(mid) < score else (lo, mid)
    return hi


def threshold_table(eng, gen, imp):
    rows = []
    for s in (50, 60, 65, 70, 75, 80, 85, 90):
        c = cosine_of_score(eng, s)
        rows.append((s, c, float((imp >= c).mean()), float((gen >= c).mean())))
    return rows


def evaluate(name, sets, eng, rt, extra):
    results = {}
    for label, (items, min_side, pad) in sets.items():
        t0 = time.time()
        feats, labels, missed = collect(eng, rt, items, min_side, pad)
        if extra is not None:
            feats = {k: np.concatenate([v, extra[0][k]]) for k, v in feats.items()}
            labels = labels + extra[1]
        per = {k: pair_scores(v, labels) for k, v in feats.items()}
        per["fusion"] = fused(per["faceres"], per["mobileface"])
        results[label] = {k: roc_figures(*v) for k, v in per.items()}
        results[label]["score_thresholds"] = threshold_table(eng, *per["faceres"])
        results[label]["faces"] = len(labels)
        results[label]["missed"] = missed
        print(f"{label}: {len(labels)} faces ({missed} not detected), {time.time() - t0:.0f} s", file=sys.stderr)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orl", action="store_true", help="also ORL (400+ grey faces, slower)")
    ap.add_argument("--json")
    args = ap.parse_args()
    eng, rt = facekit.Engine(), facekit.ModelRuntime(warm_up=False)
    extra = group_faces(eng, rt)
    sets = {"faces-dev + group photos": (datasets.faces_dev(), 200, 0.3)}
    if args.orl:
        sets["ORL + group photos"] = (datasets.orl(), 224, 0.3)
    res = evaluate("all", sets, eng, rt, extra)
    print("| set | descriptor | faces | genuine / impostor pairs | AUC | EER | TAR@FAR1e-2 | TAR@FAR1e-3 | cosine @ FAR 1e-3 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, r in res.items():
        for k in ("faceres", "mobileface", "fusion"):
            f = r[k]
            print(f"| {label} | {k} | {r['faces']} | {f['genuine']} / {f['impostor']} | {f['auc']:.4f} | "
                  f"{f['eer']:.3f} | {f['tar@0.01']:.3f} | {f['tar@0.001']:.3f} | {f['thr@0.001']:.3f} |")
    for label, r in res.items():
        print(f"\nScore thresholds (faceres), {label}:")
        print("| score >= | cosine >= | FAR | TAR |\n|---|---|---|---|")
        for s, c, far, tar in r["score_thresholds"]:
            print(f"| {s} | {c:.3f} | {far:.2e} | {tar:.3f} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
