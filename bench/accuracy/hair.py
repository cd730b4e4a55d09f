"""Hairstyle classifier (cpp/src/analyze/hair.h): train it, write its weights, measure it.

usage: python bench/accuracy/hair.py [--write-header] [--repeats 10] [--no-engine]

The classifier: three square head crops around the detected face box (side 2.0, 2.6 and 1.6
face sides, their tops 0.6, 0.8 and 0.45 face sides above the box top; grey-level gain
normalised so the face centre has median 150), each through the shipped faceres model (1024-d
descriptor, L2-normalised), concatenated (3072-d) into a 4-class multinomial logistic regression
(L2, C = 0.1, class-balanced weights). No new network: faceres' descriptor of a wider crop
carries hair, headwear and braids.

Training data (research use only, CelebA-HQ / Figaro-1k terms: the weights inherit them):
  - shared/data/hair-dev (129 photos: hat, braids, short_hair, long_hair);
  - EXTRA below: 13 CelebA-HQ faces from shared/data/glasses-dev/no_glasses and faces-large,
    labelled by eye for this classifier (10 short-haired or bald dark-skinned men, 3 hats),
    because hair-dev's short_hair has almost no dark-skinned men and a first model called
    short-haired dark-skinned men "hat" on the group photos of tests/data/hair_labels.json.

Measured:
  1. hair-dev, repeated stratified 5-fold cross-validation (EXTRA always in the training
     folds, never tested): per-class accuracy (mean and sd over repeats), the confusion matrix
     of each face's majority vote over repeats, short/long within each gender (faceres'
     predicted gender), and the gender-only baseline.
  2. tests/data/hair_labels.json (63 faces of group photos, short/long only), with the model
     trained on all of hair-dev + EXTRA: a held-out check.
  3. With --engine (default on): facekit.Engine.hair_style (the C++ path) on both sets, to check
     that the C++ reproduces this script (hair-dev figures then are in-sample).
"""
import argparse
import csv
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import facekit  # noqa: E402

CLASSES = ["shortHair", "longHair", "hat", "braids"]
FOLDER_CLASS = {"short_hair": 0, "long_hair": 1, "hat": 2, "braids": 3}
# (side, above-top) of each head crop, in face-box sides; keep in step with hair.cpp kCrops.
CROPS = [(2.0, 0.6), (2.6, 0.8), (1.6, 0.45)]
SIDE = 224
GREY_TARGET = 150.0
C_REG = 0.1
HEADER = os.path.join(datasets.ROOT, "cpp", "src", "analyze", "hair_weights.h")
# Extra training faces labelled by eye (paths under shared/data): see the module docstring.
EXTRA = [(p, 0) for p in [
    "glasses-dev/no_glasses/celebahq-18102.jpg", "glasses-dev/no_glasses/celebahq-20034.jpg",
    "glasses-dev/no_glasses/celebahq-22779.jpg", "glasses-dev/no_glasses/celebahq-4065.jpg",
    "glasses-dev/no_glasses/celebahq-8354.jpg", "faces-large/face/celebahq1024-27722.jpg",
    "faces-large/face/celebahq1024-27869.jpg", "faces-large/face/celebahq1024-28031.jpg",
    "faces-large/face/celebahq1024-28430.jpg", "faces-large/face/celebahq1024-28615.jpg"]] + [
    (p, 2) for p in ["glasses-dev/no_glasses/celebahq-14882.jpg", "glasses-dev/no_glasses/celebahq-23538.jpg",
                     "glasses-dev/no_glasses/celebahq-28126.jpg"]]


def head_crop(img, box, side, above):
    """Python replica of hair.cpp head_crop: integer square, zero outside the image, 224 px, gain."""
    s = max(box.width, box.height)
    n = max(1, int(round(side * s)))
    x0 = int(round(box.left + box.width / 2 - side * s / 2))
    y0 = int(round(box.top - above * s))
    canvas = np.zeros((n, n, 3), np.uint8)
    ix0, iy0 = max(x0, 0), max(y0, 0)
    ix1, iy1 = min(x0 + n, img.shape[1]), min(y0 + n, img.shape[0])
    if ix1 > ix0 and iy1 > iy0:
        canvas[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = img[iy0:iy1, ix0:ix1]
    crop = cv2.resize(canvas, (SIDE, SIDE), interpolation=cv2.INTER_AREA if n > SIDE else cv2.INTER_LINEAR)
    # Gain: the face centre (0.35..0.75 face sides below the box top, +-0.2 around the centre) to grey 150.
    r0, r1 = int(SIDE * (above + 0.35) / side), int(SIDE * (above + 0.75) / side)
    c0, c1 = int(SIDE * (0.5 - 0.2 / side)), int(SIDE * (0.5 + 0.2 / side))
    g = np.sort(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)[r0:r1, c0:c1].ravel())
    gain = GREY_TARGET / max(float(g[len(g) // 2]), 20.0)
    return np.clip(crop.astype(np.float32) * gain, 0, 255)


def features(rt, img, box):
    mean = np.array(rt_mean(rt), np.float32)
    batch = np.stack([head_crop(img, box, side, above) - mean for side, above in CROPS])
    d = rt.run("faceres", batch)[0]
    return (d / np.linalg.norm(d, axis=1, keepdims=True)).ravel()


def rt_mean(rt, _cache={}):
    if "m" not in _cache:
        _cache["m"] = next(m["mean"] for m in rt.models() if m["name"] == "faceres")
    return _cache["m"]


# --- multinomial logistic regression (numpy, L-BFGS) ---------------------------------------

def _softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit(X, y, C=C_REG, ncls=4, iters=500):
    """Standardised, class-balanced, L2 multinomial LR. Returns (W, b) acting on raw X."""
    mu, sd = X.mean(0), X.std(0) + 1e-6
    Z = np.hstack([(X - mu) / sd, np.ones((len(X), 1))])
    n = len(y)
    Y = np.eye(ncls)[y]
    cnt = np.bincount(y, minlength=ncls)
    w = (n / (ncls * np.maximum(cnt, 1)))[y]
    lam = 1.0 / C

    def f(W):
        P = _softmax(Z @ W)
        loss = -(w * np.log(P[np.arange(n), y] + 1e-12)).sum() + 0.5 * lam * (W[:-1] ** 2).sum()
        G = Z.T @ ((P - Y) * w[:, None])
        G[:-1] += lam * W[:-1]
        return loss, G

    W = np.zeros((Z.shape[1], ncls))
    S, Yq = [], []
    loss, G = f(W)
    for _ in range(iters):
        q = G.copy()
        al = []
        for s_, y_ in reversed(list(zip(S, Yq))):
            r = 1 / (y_ * s_).sum()
            a = r * (s_ * q).sum()
            q -= a * y_
            al.append((a, r, s_, y_))
        q *= (S[-1] * Yq[-1]).sum() / (Yq[-1] * Yq[-1]).sum() if S else 1e-3 / (np.abs(q).max() + 1e-12)
        for a, r, s_, y_ in reversed(al):
            q += s_ * (a - r * (y_ * q).sum())
        step = 1.0
        while True:
            Wn = W - step * q
            ln, Gn = f(Wn)
            if ln <= loss - 1e-4 * step * (G * q).sum() or step < 1e-10:
                break
            step *= 0.5
        done = abs(loss - ln) < 1e-10 * max(1.0, abs(loss))
        S.append(Wn - W)
        Yq.append(Gn - G)
        S, Yq = S[-10:], Yq[-10:]
        W, loss, G = Wn, ln, Gn
        if done:
            break
    A = W[:-1] / sd[:, None]  # fold the standardisation into the weights
    b = W[-1] - (mu[:, None] * A).sum(0)
    return A, b


def predict(model, X):
    A, b = model
    return _softmax(X @ A + b)


# --- data ------------------------------------------------------------------------------------

def largest(faces):
    return max(faces, key=lambda f: f.box.width * f.box.height) if faces else None


def load_sets(eng, rt):
    """Rows: dict(set, name, label, male, feat, img-for-engine, face)."""
    rows = []
    base = os.path.join(datasets.SHARED, "hair-dev")
    items = [("hair-dev", it["file"], os.path.join(base, it["file"]), FOLDER_CLASS[it["label"]])
             for it in csv.DictReader(open(os.path.join(base, "labels.csv")))]
    items += [("extra", p, os.path.join(datasets.SHARED, p), c) for p, c in EXTRA]
    for kind, name, path, c in items:
        img = datasets.load(path, 200, 0.3)  # tight crops: pad so the detector sees a whole face
        f = largest(eng.detect(img, min_face=20, max_face=4000, attributes=True))
        row = dict(set=kind, name=name, label=c, face=f, img=img)
        if f is not None:
            row.update(male=f.attributes.male > 0.5, feat=features(rt, img, f.box))
        rows.append(row)
    labels = json.load(open(os.path.join(datasets.ROOT, "tests", "data", "hair_labels.json")))["faces"]
    cache = {}
    for item in labels:
        name = item["file"]
        path = os.path.join(datasets.SAMPLES, name.split(":", 1)[1]) if name.startswith("face-api:") \
            else os.path.join(datasets.SHARED, name)
        if path not in cache:
            img = cv2.imread(path)
            cache[path] = (img, eng.detect(img, min_face=40, max_face=4000))
        img, faces = cache[path]
        cx, cy = item["center"]
        hits = [f for f in faces if f.box.left <= cx <= f.box.left + f.box.width
                and f.box.top <= cy <= f.box.top + f.box.height]
        f = hits[0] if hits else None
        row = dict(set="hair_labels", name=name, label=CLASSES.index(item["hair"]), face=f, img=img)
        if f is not None:
            row.update(male=eng.attributes(img, f.landmarks).male > 0.5, feat=features(rt, img, f.box))
        rows.append(row)
    return rows


# --- reports ---------------------------------------------------------------------------------

def confusion(truth, pred, ncls=4):
    m = np.zeros((ncls, ncls + 1), int)  # last column: no face
    for t, p in zip(truth, pred):
        m[t, p if p >= 0 else ncls] += 1
    return m


def print_matrix(m, title):
    print(f"\n{title}")
    print("| label \\ predicted | " + " | ".join(CLASSES) + " | no face | n | accuracy |")
    print("|---" * (len(CLASSES) + 4) + "|")
    for c in range(len(CLASSES)):
        n = m[c].sum()
        if n:
            print(f"| {CLASSES[c]} | " + " | ".join(str(v) for v in m[c]) + f" | {n} | {m[c, c] / n:.2f} |")


def per_gender(truth, pred, male, title):
    print(f"\n{title}")
    print("| gender (faceres) | shortHair right / n | longHair right / n | gender-only rule (men short, women long) |")
    print("|---|---|---|---|")
    for g, gm in (("men", male), ("women", ~male)):
        cells = []
        base_right = base_n = 0
        for c in (0, 1):
            sel = gm & (truth == c)
            cells.append(f"{(pred[sel] == c).sum()} / {sel.sum()}")
            base_right += sel.sum() if (c == 0) == (g == "men") else 0
            base_n += sel.sum()
        print(f"| {g} | {cells[0]} | {cells[1]} | {base_right} / {base_n} |")


def stratified_folds(y, k, rng):
    f = np.zeros(len(y), int)
    for c in np.unique(y):
        idx = np.where(y == c)[0]
        rng.shuffle(idx)
        f[idx] = np.arange(len(idx)) % k
    return f


def write_header(model, path):
    A, b = model
    lines = ["#pragma once",
             "// Generated by bench/accuracy/hair.py --write-header: do not edit by hand.",
             "// 4-class logistic regression (shortHair, longHair, hat, braids) on 3 x 1024 L2-normalised faceres",
             "// descriptors of head crops. Trained on shared/data/hair-dev + 13 extra CelebA-HQ faces (research",
             "// data: CelebA-HQ non-commercial research terms, Figaro-1k terms unknown): these weights inherit them.",
             "namespace facekit::analyze::hair_weights {",
             f"constexpr int kClasses = {A.shape[1]};",
             f"constexpr int kDims = {A.shape[0]};",
             "constexpr float kBias[kClasses] = {" + ", ".join(f"{v:.7g}f" for v in b) + "};",
             "// kWeights[d * kClasses + c]",
             "constexpr float kWeights[kDims * kClasses] = {"]
    flat = A.astype(np.float32).ravel()
    for i in range(0, len(flat), 8):
        lines.append("    " + ", ".join(f"{v:.7g}f" for v in flat[i:i + 8]) + ",")
    lines += ["};", "}  // namespace facekit::analyze::hair_weights", ""]
    open(path, "w").write("\n".join(lines))
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-header", action="store_true")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--no-engine", action="store_true", help="skip the C++ Engine.hair_style check")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    eng = facekit.Engine(num_threads=1)
    rt = facekit.ModelRuntime(num_threads=1)
    rows = load_sets(eng, rt)
    for kind in ("hair-dev", "extra", "hair_labels"):
        rs = [r for r in rows if r["set"] == kind]
        print(f"{kind}: {len(rs)} faces, no face found: {sum(r['face'] is None for r in rs)}")

    dev = [r for r in rows if r["set"] == "hair-dev" and r["face"] is not None]
    extra = [r for r in rows if r["set"] == "extra" and r["face"] is not None]
    X, y = np.array([r["feat"] for r in dev]), np.array([r["label"] for r in dev])
    male = np.array([r["male"] for r in dev])
    Xe, ye = np.array([r["feat"] for r in extra]), np.array([r["label"] for r in extra])

    # 1. repeated stratified k-fold on hair-dev
    rng = np.random.default_rng(0)
    votes = np.zeros((len(y), 4), int)
    acc = []
    for _ in range(args.repeats):
        folds = stratified_folds(y, args.folds, rng)
        pred = np.zeros(len(y), int)
        for k in range(args.folds):
            tr, te = folds != k, folds == k
            model = fit(np.vstack([X[tr], Xe]), np.concatenate([y[tr], ye]))
            pred[te] = predict(model, X[te]).argmax(1)
        votes[np.arange(len(y)), pred] += 1
        acc.append([(pred[y == c] == c).mean() for c in range(4)] + [(pred == y).mean()])
    acc = np.array(acc)
    n_miss = sum(r["face"] is None for r in rows if r["set"] == "hair-dev")
    print(f"\n## hair-dev, {args.repeats} x stratified {args.folds}-fold cross-validation "
          f"({len(y)} faces with a detected face, {n_miss} without)")
    print("| class | n | accuracy mean | sd over repeats |\n|---|---|---|---|")
    for c in range(4):
        print(f"| {CLASSES[c]} | {(y == c).sum()} | {acc[:, c].mean():.3f} | {acc[:, c].std():.3f} |")
    print(f"| all | {len(y)} | {acc[:, 4].mean():.3f} | {acc[:, 4].std():.3f} |")
    maj = votes.argmax(1)
    print_matrix(confusion(y, maj), "confusion (each face's majority vote over the repeats):")
    per_gender(y, maj, male, "short / long hair within each gender (majority vote):")

    # 2. held-out check: hair_labels.json
    model = fit(np.vstack([X, Xe]), np.concatenate([y, ye]))
    old = [r for r in rows if r["set"] == "hair_labels"]
    yo = np.array([r["label"] for r in old])
    po = np.array([predict(model, r["feat"][None])[0].argmax() if r["face"] is not None else -1 for r in old])
    mo = np.array([bool(r.get("male", False)) for r in old])
    print_matrix(confusion(yo, po), f"## tests/data/hair_labels.json ({len(old)} faces), "
                                    "trained on all hair-dev + extra (held out):")
    found = po >= 0
    per_gender(yo[found], po[found], mo[found], "short / long hair within each gender:")
    if args.write_header:
        write_header(model, HEADER)

    # 3. the C++ path
    if not args.no_engine:
        for kind, rs in (("hair-dev (in-sample for the shipped weights)", dev), ("hair_labels.json", old)):
            truth = np.array([r["label"] for r in rs])
            got = np.array([CLASSES.index(eng.hair_style(r["img"], r["face"])) if r["face"] is not None else -1
                            for r in rs])
            here = np.array([predict(model, r["feat"][None])[0].argmax() if r["face"] is not None else -1
                             for r in rs])
            print_matrix(confusion(truth, got), f"## Engine.hair_style (C++) on {kind}:")
            print(f"C++ agrees with this script on {(got == here).sum()} / {len(rs)} faces")


if __name__ == "__main__":
    main()
