"""Verification accuracy of facekit's descriptors on real labelled photos.

usage: python bench/accuracy/verification.py [--orl] [--json OUT] [--mirror-identity] [--one-call] [--earlier]

Faces come from facekit's own detector and 5 points: `largest_face` (every pyramid level), or with
--one-call the descriptor of the photo as one call, `extract_one(img)`, whose plan is the
server's (compare, feature, search): a whole-image pass first. Descriptors: the engine's "accurate"
descriptor (MobileFaceNet fused with dlib's ResNet, 320-d: the default), and its two parts on
their own: MobileFaceNet (the "fast" descriptor, 192-d) and dlib (128-d), read back from the
fused vector (its first 192 and last 128 components, renormalised); with --earlier the
descriptors before 2026-12-01 instead ("faceres+dlib", 1152-d, and "faceres"). Pairs: every genuine
and impostor pair within each set, plus the face-api sample group photos' faces as extra
identities (impostor pairs only). Reports AUC, EER, TAR at FAR 1e-2 / 1e-3 / 1e-4, the
cosine at FAR 1e-3, and the score thresholds of both shipped descriptors.
"""
import argparse
import itertools
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import facekit  # noqa: E402

ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                    [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def similarity(src, dst):
    """Least-squares similarity (Umeyama), as the engine's align.cpp (double precision)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    var = (s ** 2).sum()
    a = (s * d).sum()
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()
    c, sn = a / var, b / var
    return np.array([[c, -sn, md[0] - (c * ms[0] - sn * ms[1])], [sn, c, md[1] - (sn * ms[0] + c * ms[1])]])


DLIB_DIM = 128  # the fused vector's last components; the identity net's come first


def split(fused):
    """{accurate, fast (the identity net alone), dlib} unit vectors of fused rows."""
    f = np.asarray(fused, np.float32)
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    return {"accurate": unit(f), "fast": unit(f[:, :-DLIB_DIM]), "dlib": unit(f[:, -DLIB_DIM:])}


MIRROR_IDENTITY = False  # --mirror-identity: the identity net's half averaged over the mirrored photo too
ONE_CALL = False  # --one-call: extract_one(img), the detector plan of the server's compare / feature / search


def mirrored(img, landmarks):
    """The photo mirrored, and its 5 points (image-left first again)."""
    w = img.shape[1]
    pts = [(w - 1 - x, y) for x, y in (tuple(p) for p in landmarks)]
    return np.ascontiguousarray(img[:, ::-1]), [pts[1], pts[0], pts[2], pts[4], pts[3]]


def describe(eng, img, landmarks):
    f = np.asarray(eng.extract_one(img, landmarks), np.float32)
    if MIRROR_IDENTITY:
        g = np.asarray(eng.extract_one(*mirrored(img, landmarks)), np.float32)
        both = f[:-DLIB_DIM] + g[:-DLIB_DIM]
        f[:-DLIB_DIM] = both * (np.linalg.norm(f[:-DLIB_DIM]) / np.linalg.norm(both))
    return f


def collect(eng, items, min_side, pad):
    feats, labels, missed = [], [], 0
    for ident, path in items:
        img = datasets.load(path, min_side, pad)
        try:
            if ONE_CALL:
                feats.append(np.asarray(eng.extract_one(img, None), np.float32))
            else:
                feats.append(describe(eng, img, eng.largest_face(img).landmarks))
        except facekit.FacekitError:
            missed += 1
            continue
        labels.append(ident)
    return split(feats), labels, missed


def group_faces(eng):
    feats, labels = [], []
    for path in datasets.sample_group_photos():
        img = datasets.load(path)
        for i, face in enumerate(eng.detect(img, min_face=40, max_face=600)):
            feats.append(describe(eng, img, face.landmarks))
            labels.append(f"{os.path.basename(path)}#{i}")
    return split(feats), labels


def pair_scores(f, labels):
    sims = f @ f.T
    gen, imp = [], []
    for i, j in itertools.combinations(range(len(labels)), 2):
        (gen if labels[i] == labels[j] else imp).append(sims[i, j])
    return np.array(gen), np.array(imp)


def roc_figures(gen, imp):
    imp_sorted = np.sort(imp)[::-1]
    out = {"genuine": int(len(gen)), "impostor": int(len(imp))}
    for far in (1e-2, 1e-3, 1e-4):
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


ANCHOR_FARS = {50: 1e-1, 60: 1e-2, 70: 1e-3, 80: 1e-4}


def score_anchors(imp):
    """The cosines where the pooled impostor pairs' false-accept rate is 1e-1 .. 1e-4: the
    engine's score curve maps them onto 50, 60, 70, 80 (cpp/src/engine/engine.cpp)."""
    s = np.sort(imp)[::-1]
    return {score: float(s[min(int(np.floor(far * len(s))), len(s) - 1)]) for score, far in ANCHOR_FARS.items()}


def evaluate(sets, engines, extra):
    results = {}
    pooled = {}
    for label, (items, min_side, pad) in sets.items():
        t0 = time.time()
        feats, labels, missed = collect(engines["accurate"], items, min_side, pad)
        feats = {k: np.concatenate([v, extra[0][k]]) for k, v in feats.items()}
        labels = labels + extra[1]
        per = {k: pair_scores(v, labels) for k, v in feats.items()}
        for k, (_, imp) in per.items():
            pooled.setdefault(k, []).append(imp)
        results[label] = {k: roc_figures(*v) for k, v in per.items()}
        results[label]["impostor_sd"] = {k: float(v[1].std()) for k, v in per.items()}
        results[label]["score_thresholds"] = {
            "accurate": threshold_table(engines["accurate"], *per["accurate"]),
            "fast": threshold_table(engines["fast"], *per["fast"])}
        results[label]["faces"] = len(labels)
        results[label]["missed"] = missed
        print(f"{label}: {len(labels)} faces ({missed} not detected), {time.time() - t0:.0f} s", file=sys.stderr)
    results["score anchors (pooled impostor pairs)"] = {
        k: {"impostor_pairs": int(sum(len(i) for i in v)), "anchors": score_anchors(np.concatenate(v))}
        for k, v in pooled.items()}
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orl", action="store_true", help="also ORL (400+ grey faces, slower)")
    ap.add_argument("--json")
    ap.add_argument("--mirror-identity", action="store_true",
                    help="also average the identity net over the mirrored photo (an experiment; the engine does not)")
    ap.add_argument("--earlier", action="store_true",
                    help="the descriptors before 2026-12-01: faceres+dlib and faceres")
    ap.add_argument("--one-call", action="store_true",
                    help="each photo's descriptor from one extract_one(img) call (the server's plan)")
    ap.add_argument("--float-dlib", action="store_true",
                    help="dlib's ResNet in float32 (Engine(int8=False)), the int8 model's baseline")
    args = ap.parse_args()
    global MIRROR_IDENTITY, ONE_CALL
    MIRROR_IDENTITY = args.mirror_identity
    ONE_CALL = args.one_call
    names = ("faceres+dlib", "faceres") if args.earlier else ("accurate", "fast")
    engines = {"accurate": facekit.Engine(descriptor=names[0], int8=not args.float_dlib),
               "fast": facekit.Engine(descriptor=names[1])}
    extra = group_faces(engines["accurate"])
    sets = {"faces-dev + group photos": (datasets.faces_dev(), 200, 0.3)}
    if args.orl:
        sets["ORL + group photos"] = (datasets.orl(), 224, 0.3)
    res = evaluate(sets, engines, extra)
    print("| set | descriptor | faces | genuine / impostor pairs | AUC | EER | TAR@FAR1e-2 | TAR@FAR1e-3 | "
          "TAR@FAR1e-4 | cosine @ FAR 1e-3 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    names = {"accurate": f"**{names[0]}**", "fast": names[1], "dlib": "dlib alone (flip-averaged)"}
    anchors = res.pop("score anchors (pooled impostor pairs)")
    for label, r in res.items():
        for k, name in names.items():
            f = r[k]
            print(f"| {label} | {name} | {r['faces']} | {f['genuine']} / {f['impostor']} | {f['auc']:.5f} | "
                  f"{f['eer']:.4f} | {f['tar@0.01']:.3f} | {f['tar@0.001']:.3f} | {f['tar@0.0001']:.3f} | "
                  f"{f['thr@0.001']:.3f} |")
        print(f"impostor cosine sd, {label}: " + ", ".join(f"{k} {v:.4f}" for k, v in r["impostor_sd"].items()))
    for label, r in res.items():
        for d, rows in r["score_thresholds"].items():
            print(f"\nScore thresholds ({d} descriptor), {label}:")
            print("| score >= | cosine >= | FAR | TAR |\n|---|---|---|---|")
            for s, c, far, tar in rows:
                print(f"| {s} | {c:.3f} | {far:.2e} | {tar:.3f} |")
    print("\nScore anchors (cosine at pooled FAR 1e-1 / 1e-2 / 1e-3 / 1e-4 -> score 50 / 60 / 70 / 80):")
    for k, a in anchors.items():
        print(f"  {k} ({a['impostor_pairs']} impostor pairs): " +
              ", ".join(f"{s}: {c:.4f}" for s, c in a["anchors"].items()))
    if args.json:
        res["score anchors (pooled impostor pairs)"] = anchors
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
