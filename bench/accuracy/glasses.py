"""Glasses classifier (cpp/src/analyze/glasses.{h,cpp}): training and measurement.

usage: python bench/accuracy/glasses.py [--write-header]

Features: 36 numbers read from the engine's ArcFace-aligned 112x112 crop (grey levels,
darkness and texture of the lens, under-eye and cheek regions, coherent horizontal / vertical
edges where a frame's rims, bridge and temples lie, the old bridge-gradient rule's value).
Grey only, so a grey photo reads the same as its colour original. Classifier: 3-class
(none / eyeglasses / sunglasses) multinomial logistic regression, L2 (lam 0.01), standardised
features folded into the weights: 37 x 3 numbers.

Training data (all research-use; the weights inherit their terms):
  - glasses-dev (CelebA-HQ, 250 faces: 85 eyeglasses, 80 sunglasses, 85 none) as is, and the
    same photos shrunk so the face is ~45 px ("small") and ~33 px ("tiny"),
  - tests/data/glasses_labels.json (UTKFace sample + faces-dev, 134 faces, 19 eyeglasses).
Figures: repeated (3x) stratified 5-fold cross-validation, grouped by photo (a photo's shrunk
copies are in the same fold as the photo) and, for faces-dev, by person. Grey copies are only
tested, never trained on. --write-header writes cpp/src/analyze/glasses_weights.h.
"""
import glob
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
from verification import similarity  # noqa: E402  (Umeyama, as align.cpp)

import facekit  # noqa: E402

cv2.setNumThreads(1)
CLASSES = ["none", "eyeglasses", "sunglasses"]
FOLDER = {"no_glasses": 0, "eyeglasses": 1, "sunglasses": 2}
LAM, ITERS, REPS, FOLDS = 0.01, 3000, 3, 5
TRAIN = ("orig", "small", "tiny", "labelled")
VARIANTS = ("orig", "grey", "small", "tiny", "labelled")
ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                    [41.5493, 92.3655], [70.7299, 92.2041]], np.float64)


# ---------------------------------------------------------------- data

def glasses_dev():
    base = os.path.join(datasets.SHARED, "glasses-dev")
    rows = [line.split(",") for line in open(os.path.join(base, "labels.csv")).read().split()[1:]]
    return [(os.path.join(base, f), FOLDER[lab], f) for f, lab in rows]


def labelled():
    """tests/data/glasses_labels.json: (path, class, group); faces-dev photos grouped by person."""
    lab = json.load(open(os.path.join(datasets.ROOT, "tests", "data", "glasses_labels.json")))["glasses"]
    items = [(p, int(os.path.basename(p) in lab["age-gender-utk"]), p)
             for p in sorted(glob.glob(os.path.join(datasets.SHARED, "age-gender-utk", "*.jpg")))]
    items += [(p, int(os.path.relpath(p, os.path.join(datasets.SHARED, "faces-dev")) in lab["faces-dev"]),
               "faces-dev/" + person) for person, p in datasets.faces_dev()]
    return items


def variant_image(path, variant):
    """The photo as the engine sees it: glasses-dev photos padded by a quarter (one face fills
    the 256 px photo too tightly for the detector); 'grey' converted, 'small' / 'tiny' shrunk to
    80 / 60 px (faces ~45 / ~33 px) before padding."""
    if variant == "labelled":
        return datasets.load(path, 200, 0.3)
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if variant == "grey":
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    elif variant in ("small", "tiny"):
        s = 80 if variant == "small" else 60
        img = cv2.resize(img, (s, s), interpolation=cv2.INTER_AREA)
    p = img.shape[0] // 4
    return cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_CONSTANT, value=(0, 0, 0))


def aligned(img, landmarks):
    """The engine's aligned crop (align::aligned_crop(bgr, five, 112))."""
    return cv2.warpAffine(img, similarity(landmarks, ARCFACE), (112, 112), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def collect(eng):
    """{variant: (crops, classes, groups, engine's glasses flag, face widths)}; misses counted."""
    out, missed = {}, {}
    for v in VARIANTS:
        items = labelled() if v == "labelled" else glasses_dev()
        crops, ys, groups, flags, widths = [], [], [], [], []
        missed[v] = 0
        for path, y, group in items:
            img = variant_image(path, v)
            faces = eng.detect(img, min_face=40 if v == "labelled" else 20)
            if not faces:
                missed[v] += 1
                continue
            f = max(faces, key=lambda f: f.box.width * f.box.height)
            crops.append(aligned(img, np.array(f.landmarks)))
            ys.append(y)
            groups.append(group)
            flags.append(bool(f.glasses))
            widths.append(f.box.width)
        out[v] = (crops, np.array(ys), np.array(groups), np.array(flags), np.array(widths))
    return out, missed


# ---------------------------------------------------------------- features (mirror of glasses.cpp)

# (x0, y0, x1, y1) boxes in the 112 template; L/R pairs are read as one pixel set.
REF = (24, 20, 88, 96)
CHEEK = ((26, 72, 48, 86), (64, 72, 86, 86))
LENS = ((26, 44, 50, 60), (62, 44, 86, 60))
UNDER = ((26, 60, 50, 68), (62, 60, 86, 68))
OUTER = ((16, 44, 26, 62), (86, 44, 96, 62))
NOSE = (50, 62, 62, 76)
BRIDGE = (52, 44, 60, 58)
ROW_EDGES = ((50, 40, 62, 62), (24, 32, 52, 48), (60, 32, 88, 48), (24, 56, 52, 72), (60, 56, 88, 72),
             (8, 40, 22, 62), (90, 40, 104, 62))
COL_EDGES = ((12, 42, 30, 64), (82, 42, 100, 64), (44, 42, 56, 62), (56, 42, 68, 62))
ABS_GY = ((50, 42, 62, 58), (8, 44, 22, 60), (90, 44, 104, 60), (24, 60, 52, 70), (60, 60, 88, 70),
          (30, 74, 82, 86))
OLD_BRIDGE = (50, 44, 62, 58)
NAMES = (["lens-cheek", "lens std", "lens mean", "lens p10", "lens p90", "lens/cheek", "lens dark frac",
          "lens p90/cheek", "cheek mean", "bridge-cheek"]
         + [f"row edge {b}" for b in ROW_EDGES] + [f"col edge {b}" for b in COL_EDGES]
         + [f"|gy| {b}" for b in ABS_GY]
         + ["under/cheek", "under-cheek", "under dark frac", "outer/cheek", "lens iqr", "lens/nose",
            "under/nose", "old bridge/100", "log1p old bridge"])


def _px(img, boxes):
    return np.concatenate([img[y0:y1, x0:x1].ravel() for x0, y0, x1, y1 in boxes]).astype(np.float64)


def features(crop):
    raw = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    g = cv2.GaussianBlur(raw, (3, 3), 0)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    sd = _px(g, [REF]).std() + 1.0
    cheek, lens, under, outer = _px(g, CHEEK), _px(g, LENS), _px(g, UNDER), _px(g, OUTER)
    cm, lm, um = cheek.mean() + 1.0, lens.mean(), under.mean()
    nose = _px(g, [NOSE]).mean() + 1.0
    p10, p25, p75, p90 = np.percentile(lens, [10, 25, 75, 90])
    f = [(lm - cheek.mean()) / sd, lens.std() / sd, lm / 255, p10 / 255, p90 / 255, lm / cm,
         np.mean(lens < 0.5 * cm), p90 / cm, cheek.mean() / 255, (_px(g, [BRIDGE]).mean() - cheek.mean()) / sd]
    f += [np.abs(gy[y0:y1, x0:x1].astype(np.float64).mean(1)).max() / sd for x0, y0, x1, y1 in ROW_EDGES]
    f += [np.abs(gx[y0:y1, x0:x1].astype(np.float64).mean(0)).max() / sd for x0, y0, x1, y1 in COL_EDGES]
    f += [np.abs(gy[y0:y1, x0:x1]).astype(np.float64).mean() / sd for x0, y0, x1, y1 in ABS_GY]
    f += [um / cm, (um - cheek.mean()) / sd, np.mean(under < 0.6 * cm), outer.mean() / cm, (p75 - p25) / sd,
          lm / nose, um / nose]
    x0, y0, x1, y1 = OLD_BRIDGE
    old = np.abs(cv2.Sobel(raw, cv2.CV_32F, 0, 1, ksize=3)[y0:y1, x0:x1]).astype(np.float64).mean()
    f += [old / 100, np.log1p(old)]
    return np.array(f)


# ---------------------------------------------------------------- classifier

def fit(x, y, lam=LAM, iters=ITERS):
    """Multinomial logistic regression, L2 on the weights (not the biases), accelerated gradient
    descent from zero (deterministic). Returns (d + 1) x 3, last row the biases."""
    n = len(x)
    xb = np.c_[x, np.ones(n)]
    onehot = np.eye(3)[y]
    step = 1.0 / (0.5 * np.linalg.norm(xb, 2) ** 2 / n + lam)
    w = np.zeros((xb.shape[1], 3))
    v, t = w.copy(), 1.0
    for _ in range(iters):
        z = xb @ v
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        grad = xb.T @ (p - onehot) / n
        grad[:-1] += lam * v[:-1]
        wn = v - step * grad
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        v, w, t = wn + (t - 1) / tn * (wn - w), wn, tn
    return w


def train(feats, ys):
    """Standardise, fit, and fold the standardisation into the weights: score = x @ w[:-1] + w[-1]."""
    mu, sd = feats.mean(0), feats.std(0) + 1e-9
    w = fit((feats - mu) / sd, ys)
    return np.r_[w[:-1] / sd[:, None], [w[-1] - (mu / sd) @ w[:-1]]]


def predict(w, feats):
    return np.argmax(feats @ w[:-1] + w[-1], 1)


def folds(data, rep):
    """Group -> fold: stratified by class, a group (photo, or faces-dev person) in one fold."""
    rng = np.random.default_rng(rep)
    fold = {}
    for v in ("orig", "labelled"):
        ys, groups = data[v][1], data[v][2]
        label = {g: ys[groups == g].max() for g in np.unique(groups)}
        for c in range(3):
            members = rng.permutation(sorted(g for g, y in label.items() if y == c))
            fold.update({g: i % FOLDS for i, g in enumerate(members)})
    return fold


def confusion(t, p):
    m = np.zeros((3, 3), int)
    np.add.at(m, (t, p), 1)
    return m


def show(title, m):
    n = m.sum()
    b = np.array([[m[0, 0], m[0, 1:].sum()], [m[1:, 0].sum(), m[1:, 1:].sum()]])
    print(f"\n{title}: n = {n}; 3-class accuracy {np.trace(m) / n:.3f}, glasses yes/no accuracy {np.trace(b) / n:.3f}")
    print("| truth \\ predicted | none | eyeglasses | sunglasses |\n|---|---|---|---|")
    for i, c in enumerate(CLASSES):
        print(f"| {c} | " + " | ".join(str(x) for x in m[i]) + " |")


def header(w):
    rows = "\n".join(f"    {{{', '.join(f'{x:.8g}f' for x in row)}}},  // {i}: {name}"
                     for i, (row, name) in enumerate(zip(w[:-1], NAMES)))
    return f"""#pragma once
// Generated by bench/accuracy/glasses.py --write-header; do not edit by hand.
// Learned from glasses-dev (CelebA-HQ, non-commercial research use) and the UTKFace sample +
// faces-dev faces of tests/data/glasses_labels.json: the weights inherit those terms.
// Score of class k (none, eyeglasses, sunglasses) = sum_i feature_i * kGlassesW[i][k] + kGlassesB[k].
#include <array>

namespace facekit::analyze::glasses_weights {{

constexpr int kFeatures = {len(NAMES)};
constexpr std::array<std::array<float, 3>, kFeatures> kGlassesW = {{{{
{rows}
}}}};
constexpr std::array<float, 3> kGlassesB = {{{", ".join(f"{x:.8g}f" for x in w[-1])}}};

}}  // namespace facekit::analyze::glasses_weights
"""


def main():
    eng = facekit.Engine(num_threads=1)
    data, missed = collect(eng)
    feats = {v: np.array([features(c) for c in data[v][0]]) for v in VARIANTS}
    for v in VARIANTS:
        ys, widths = data[v][1], data[v][4]
        print(f"{v}: {len(ys)} faces (" + ", ".join(f"{(ys == c).sum()} {CLASSES[c]}" for c in range(3))
              + f"), detector missed {missed[v]}, face width median {np.median(widths):.0f} px"
              + f" (range {widths.min():.0f}-{widths.max():.0f})")

    acc = {v: [] for v in VARIANTS}
    first = {}
    for rep in range(REPS):
        fold = folds(data, rep)
        pred = {v: np.zeros(len(data[v][1]), int) for v in VARIANTS}
        for k in range(FOLDS):
            inside = {v: np.array([fold[g] == k for g in data[v][2]]) for v in VARIANTS}
            x = np.concatenate([feats[v][~inside[v]] for v in TRAIN])
            y = np.concatenate([data[v][1][~inside[v]] for v in TRAIN])
            w = train(x, y)
            for v in VARIANTS:
                pred[v][inside[v]] = predict(w, feats[v][inside[v]])
        for v in VARIANTS:
            acc[v].append(np.mean(pred[v] == data[v][1]))
            if rep == 0:
                first[v] = confusion(data[v][1], pred[v])
    print(f"\nCross-validated ({REPS}x stratified {FOLDS}-fold, grouped by photo / person), "
          f"3-class accuracy mean [min-max] over repetitions:")
    for v in VARIANTS:
        print(f"  {v:9s} {np.mean(acc[v]):.3f} [{min(acc[v]):.3f}-{max(acc[v]):.3f}]")
    names = {"orig": "glasses-dev 256 px (faces ~140 px)", "grey": "glasses-dev grey",
             "small": "glasses-dev shrunk to 80 px (faces ~45 px)", "tiny": "glasses-dev shrunk to 60 px (faces ~33 px)",
             "labelled": "tests/data/glasses_labels.json (UTKFace + faces-dev; no sunglasses labelled)"}
    for v in VARIANTS:
        show(f"CV (repetition 1) {names[v]}", first[v])

    w = train(np.concatenate([feats[v] for v in TRAIN]), np.concatenate([data[v][1] for v in TRAIN]))
    print("\nFinal weights (all training faces), in-sample 3-class accuracy: " + ", ".join(
        f"{v} {np.mean(predict(w, feats[v]) == data[v][1]):.3f}" for v in VARIANTS))
    print("Engine's glasses flag (the built library), yes/no accuracy: " + ", ".join(
        f"{v} {np.mean(data[v][3] == (data[v][1] > 0)):.3f}" for v in VARIANTS))
    print("Engine's flag agrees with these final weights (1.000 once the library is built with this "
          "glasses_weights.h): " + ", ".join(
              f"{v} {np.mean(data[v][3] == (predict(w, feats[v]) > 0)):.3f}" for v in VARIANTS))
    text = header(w)
    if "--write-header" in sys.argv:
        path = os.path.join(datasets.ROOT, "cpp", "src", "analyze", "glasses_weights.h")
        open(path, "w").write(text)
        print(f"wrote {path}")
    else:
        print("\n" + text)


if __name__ == "__main__":
    main()
