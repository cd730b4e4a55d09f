"""The dlib descriptor (face-api's `face_recognition` net) and face-api's `age_gender` net on
facekit's detection and mesh: crop geometries, fusion with faceres, age / gender, timings.

usage: python bench/accuracy/dlib_fusion.py [--models DIR] [--no-orl] [--json OUT] [--cache FILE.npz]

The two converted TorchScript files are run from Python (torch.jit.load, 2 threads); faces,
5 points and the 468-point mesh come from facekit's engine. Verification is measured as in
verification.py (every genuine / impostor pair of a set, plus the face-api sample group
photos' faces as extra impostor identities): AUC, EER, TAR at FAR 1e-2 / 1e-3, the cosine
threshold at FAR 1e-3.

Crops for the dlib net (150 px, RGB, (x - mean) / 255):
- faceapi: face-api's alignDlib box exactly (floored square at centroid(eye centres, mouth
  centre) - (0.5, 0.43) x size, size = mean eye-to-mouth distance / 0.45, clipped to the
  image, zero-padded to a centred square, TF legacy bilinear resize), eye centres and mouth
  centre taken from the mesh (the 68-point equivalents: 6 points per eye, 20 on the lips);
- box: the same box as one cv2.warpAffine (bilinear, black outside the image), unfloored;
- rot: the same box rotated about the centroid so that the eye line is level;
- rot-area: rot, warped at the face's own scale, then INTER_AREA down to 150;
- box5: box from the engine's 5 points (eye centres, mouth centre = mean of the corners);
- rot5: box5 rotated about its centroid so that the eye line is level (the engine's crop).
Fusion: the concatenation of the unit faceres and unit dlib vectors weighted by sqrt(w_f) and
sqrt(w_d), renormalised: its cosine is (w_f cos_f + w_d cos_d) / (w_f + w_d). The weights
are 1 / (impostor cosine standard deviation) of each descriptor, i.e. the sum of
z-normalised cosines, estimated on the pooled impostor pairs of both sets (one fixed pair of
weights for a shipped descriptor) and cross-checked set against set.
"""
import argparse
import glob
import json
import os
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
from verification import pair_scores, similarity  # noqa: E402
from verification import roc_figures as _roc_figures  # noqa: E402

import facekit  # noqa: E402

MEAN_RGB = np.array([122.782, 117.001, 104.298], np.float32)

# MediaPipe FaceMesh indices of the 68 iBUG / dlib points (jaw 0-16, brows 17-26, nose 27-35,
# eyes 36-47, outer lips 48-59, inner lips 60-67), in the 68-point order.
MESH68 = [127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,
          70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
          168, 197, 5, 4, 75, 97, 2, 326, 305,
          33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
          61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
          78, 82, 13, 312, 308, 317, 14, 87]
assert len(MESH68) == 68

# dlib's own face chip (dlib/image_transforms/interpolation.h get_face_chip_details, as dlib's
# dnn_face_recognition_ex.cpp calls it: 150 px, padding 0.25): the mean positions of the 68
# points 17-67 in a unit square; the similarity transform is fitted on points 27-54 and 60-64.
DLIB_MEAN_X = [0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
               0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
               0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
               0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
               0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
               0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
               0.553364, 0.490127, 0.42689]
DLIB_MEAN_Y = [0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
               0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
               0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
               0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
               0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
               0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
               0.784792, 0.824182, 0.831803, 0.824182]
DLIB_CHIP_POINTS = [i for i in range(27, 68) if not (55 <= i <= 59 or 65 <= i <= 67)]

DLIB_VARIANTS = ["faceapi", "box", "rot", "rot-area", "box5", "rot5", "chip", "chip-area"]


def ref_points_mesh(mesh):
    p = mesh[MESH68].astype(np.float64)
    return p[36:42].mean(0), p[42:48].mean(0), p[48:68].mean(0)


def ref_points_5(lm):
    lm = np.asarray(lm, np.float64)
    return lm[0], lm[1], (lm[3] + lm[4]) / 2


def align_dlib(le, re, mouth):
    """face-api FaceLandmarks.alignDlib: (centroid, size)."""
    d = (np.linalg.norm(mouth - le) + np.linalg.norm(mouth - re)) / 2
    return (le + re + mouth) / 3, d / 0.45


def tf_resize_bilinear(img, size):
    """tf.image.resizeBilinear(align_corners=false, half_pixel_centers=false) to size x size."""
    h, w = img.shape[:2]
    ys, xs = np.arange(size) * (h / size), np.arange(size) * (w / size)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


def faceapi_crop(rgb, x, y, w, h, size):
    """face-api extractFaceTensors + toBatchTensor(size, centred): clip, floor, zero-pad to a
    centred square, TF legacy bilinear resize. Returns float32 RGB 0..255."""
    H, W = rgb.shape[:2]
    cx, cy = max(x, 0), max(y, 0)
    cw, ch = min(x + w - cx, W - cx), min(y + h - cy, H - cy)
    cx, cy, cw, ch = int(np.floor(cx)), int(np.floor(cy)), int(np.floor(cw)), int(np.floor(ch))
    face = rgb[cy:cy + ch, cx:cx + cw].astype(np.float32)
    if ch != cw:
        diff = abs(ch - cw)
        after = int(np.round(diff * 0.5 + 1e-9))  # Math.round
        before = diff - after
        pad = ((before, after), (0, 0), (0, 0)) if cw > ch else ((0, 0), (before, after), (0, 0))
        face = np.pad(face, pad)
    if face.shape[0] != size:
        face = tf_resize_bilinear(face, size)
    return face.astype(np.float32)


def warp_crop(rgb, centre, size, angle, out, area=False):
    """Square of side `size` whose top-left is centre - (0.5, 0.43) size in a frame rotated by
    `angle` (radians, the eye line's), sampled to out x out with one warpAffine."""
    c, s = np.cos(angle), np.sin(angle)
    n = int(round(size)) if area else out
    k = size / n
    a = np.array([[c * k, -s * k], [s * k, c * k]])
    t = centre + np.array([[c, -s], [s, c]]) @ np.array([-0.5 * size, -0.43 * size])
    m = np.hstack([a, t[:, None]])
    crop = cv2.warpAffine(rgb, m, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if area and n != out:
        crop = cv2.resize(crop, (out, out), interpolation=cv2.INTER_AREA if n > out else cv2.INTER_LINEAR)
    return crop.astype(np.float32)


def dlib_chip(rgb, mesh, out=150, padding=0.25, area=False):
    """dlib's extract_image_chip(get_face_chip_details(shape, out, padding)) with the mesh's
    68-point equivalents: least-squares similarity from the mean face to the points. area:
    sample at the face's own scale, then INTER_AREA down (dlib downsamples by pyramid)."""
    p = mesh[MESH68].astype(np.float64)[DLIB_CHIP_POINTS]
    tmpl = np.array([[(padding + DLIB_MEAN_X[i - 17]) / (2 * padding + 1),
                      (padding + DLIB_MEAN_Y[i - 17]) / (2 * padding + 1)] for i in DLIB_CHIP_POINTS])
    m = similarity((tmpl * out).astype(np.float32), p.astype(np.float32))  # chip -> image
    n = out
    if area:
        k = float(np.hypot(m[0, 0], m[1, 0]))  # image pixels per chip pixel
        if k > 1:
            n = int(round(out * k))
            m = similarity((tmpl * n).astype(np.float32), p.astype(np.float32))
    crop = cv2.warpAffine(rgb, m, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if n != out:
        crop = cv2.resize(crop, (out, out), interpolation=cv2.INTER_AREA)
    return crop.astype(np.float32)


def dlib_crops(rgb, mesh, landmarks):
    le, re, mouth = ref_points_mesh(mesh)
    centre, size = align_dlib(le, re, mouth)
    angle = np.arctan2(re[1] - le[1], re[0] - le[0])
    fs = np.floor(size)
    crops = {
        "faceapi": faceapi_crop(rgb, np.floor(max(0, centre[0] - 0.5 * fs)), np.floor(max(0, centre[1] - 0.43 * fs)),
                                fs, fs, 150),
        "box": warp_crop(rgb, centre, size, 0.0, 150),
        "rot": warp_crop(rgb, centre, size, angle, 150),
        "rot-area": warp_crop(rgb, centre, size, angle, 150, area=True),
    }
    c5, s5 = align_dlib(*ref_points_5(landmarks))
    crops["box5"] = warp_crop(rgb, c5, s5, 0.0, 150)
    l5 = np.asarray(landmarks, np.float64)
    crops["rot5"] = warp_crop(rgb, c5, s5, np.arctan2(l5[1][1] - l5[0][1], l5[1][0] - l5[0][0]), 150)
    crops["chip"] = dlib_chip(rgb, mesh)
    crops["chip-area"] = dlib_chip(rgb, mesh, area=True)
    return crops


def age_gender_crop(rgb, mesh, grow=0.2):
    """face-api alignedRect: min bbox of the 68 points grown by 20 % (10 % a side), 112 px."""
    p = mesh[MESH68].astype(np.float64)
    x0, y0 = p.min(0)
    x1, y1 = p.max(0)
    w, h = x1 - x0, y1 - y0
    return faceapi_crop(rgb, x0 - grow / 2 * w, y0 - grow / 2 * h, (1 + grow) * w, (1 + grow) * h, 112)


def net_input(crops):
    x = (np.stack(crops).astype(np.float32) - MEAN_RGB) / np.float32(255.0)
    return torch.from_numpy(np.ascontiguousarray(x))


def unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class Nets:
    def __init__(self, models_dir):
        self.dlib = torch.jit.load(os.path.join(models_dir, "face_recognition.pt")).eval()
        self.age_gender = torch.jit.load(os.path.join(models_dir, "age_gender.pt")).eval()

    def descriptors(self, crops):
        with torch.inference_mode():
            return unit(self.dlib(net_input(crops))[0].numpy())

    def ages_genders(self, crops):
        with torch.inference_mode():
            age, gender = self.age_gender(net_input(crops))
        return age.numpy()[:, 0], gender.numpy()[:, 0]


def face_record(eng, img, face, label, path, min_side, pad):
    """What the measurement keeps of a detected face (cached between runs)."""
    return {"label": label, "path": path, "min_side": min_side, "pad": pad,
            "mesh": np.array(face.mesh, np.float32), "landmarks": np.array(face.landmarks, np.float32),
            "faceres": eng.extract_one(img, face.landmarks)}


def detect_set(eng, items, min_side, pad):
    recs, missed = [], 0
    for ident, path in items:
        img = datasets.load(path, min_side, pad)
        try:
            face = eng.largest_face(img)
        except facekit.FacekitError:
            missed += 1
            continue
        recs.append(face_record(eng, img, face, ident, path, min_side, pad))
    return recs, missed


def detect_groups(eng):
    recs = []
    for path in datasets.sample_group_photos():
        img = datasets.load(path)
        for i, face in enumerate(eng.detect(img, min_face=40, max_face=600)):
            recs.append(face_record(eng, img, face, f"{os.path.basename(path)}#{i}", path, 0, 0.0))
    return recs


def describe(nets, recs):
    """{descriptor name: [N, dim] unit vectors}, labels."""
    feats = {"faceres": [r["faceres"] for r in recs]}
    for r in recs:
        rgb = np.ascontiguousarray(datasets.load(r["path"], r["min_side"], r["pad"])[:, :, ::-1])
        crops = dlib_crops(rgb, r["mesh"], r["landmarks"])
        d = nets.descriptors([crops[k] for k in DLIB_VARIANTS])
        for i, k in enumerate(DLIB_VARIANTS):
            feats.setdefault(f"dlib/{k}", []).append(d[i])
    return {k: np.array(v) for k, v in feats.items()}, [r["label"] for r in recs]


def roc_figures(gen, imp):
    """verification.py's figures plus TAR at FAR 1e-4 (ORL has 10^5 impostor pairs)."""
    out = _roc_figures(gen, imp)
    s = np.sort(imp)[::-1]
    k = int(np.floor(1e-4 * len(imp)))
    out["tar@0.0001"] = float((gen > s[min(k, len(s) - 1)]).mean())
    return out


def fuse(f, d, wf, wd):
    """The fused descriptor: unit(concat(sqrt(wf) f, sqrt(wd) d)) for unit f, d."""
    return unit(np.concatenate([np.sqrt(wf) * f, np.sqrt(wd) * d], axis=1))


def load_cache(path):
    if not path or not os.path.isfile(path):
        return {}
    return np.load(path, allow_pickle=True)["data"].item()


def verification(eng, nets, use_orl, cache=None):
    stored = load_cache(cache)
    sets = {"faces-dev + group photos": (datasets.faces_dev(), 200, 0.3)}
    if use_orl:
        sets["ORL + group photos"] = (datasets.orl(), 224, 0.3)
    if "group" not in stored:
        stored["group"] = detect_groups(eng)
    for label, (items, min_side, pad) in sets.items():
        if label not in stored:
            t0 = time.time()
            stored[label] = detect_set(eng, items, min_side, pad)
            print(f"{label}: detected in {time.time() - t0:.0f} s", file=sys.stderr)
    if cache:
        np.savez(cache, data=np.array(stored, dtype=object))
    extra = describe(nets, stored["group"])
    data = {}
    for label in sets:
        recs, missed = stored[label]
        feats, labels = describe(nets, recs)
        feats = {k: np.concatenate([v, extra[0][k]]) for k, v in feats.items()}
        data[label] = (feats, labels + extra[1], missed)
        print(f"{label}: {len(labels) + len(extra[1])} faces ({missed} not detected)", file=sys.stderr)
    # impostor standard deviations, per set and pooled
    sd = {}
    for label, (feats, labels, _) in data.items():
        for k, v in feats.items():
            _, imp = pair_scores(v, labels)
            sd.setdefault(k, {})[label] = (float(imp.std()), len(imp))
    pooled = {k: float(np.sqrt(sum(s * s * n for s, n in v.values()) / sum(n for _, n in v.values())))
              for k, v in sd.items()}
    results = {"impostor_sd": sd, "impostor_sd_pooled": pooled, "sets": {}}
    for label, (feats, labels, missed) in data.items():
        res = {"faces": len(labels), "missed": missed}
        for k, v in feats.items():
            res[k] = roc_figures(*pair_scores(v, labels))
        others = [o for o in data if o != label]
        for k in DLIB_VARIANTS:
            dk = f"dlib/{k}"
            wf, wd = 1 / pooled["faceres"], 1 / pooled[dk]
            res[f"fusion faceres+{k}"] = roc_figures(*pair_scores(fuse(feats["faceres"], feats[dk], wf, wd), labels))
            res[f"fusion faceres+{k}"]["w_dlib"] = wd / (wf + wd)
            if others:  # weights from the other set only
                o = others[0]
                wf, wd = 1 / sd["faceres"][o][0], 1 / sd[dk][o][0]
                r = roc_figures(*pair_scores(fuse(feats["faceres"], feats[dk], wf, wd), labels))
                r["w_dlib"] = wd / (wf + wd)
                res[f"fusion faceres+{k} (weights from {o.split()[0]})"] = r
        # sensitivity to the weight
        for wdl in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            for crop in ("faceapi", "rot", "box5", "rot5", "chip"):
                r = roc_figures(*pair_scores(fuse(feats["faceres"], feats[f"dlib/{crop}"], 1 - wdl, wdl), labels))
                res[f"sweep {crop} w_dlib={wdl}"] = r
        results["sets"][label] = res
    return results


def attributes(eng, nets):
    rows = []
    for p in sorted(glob.glob(os.path.join(datasets.SHARED, "age-gender-utk", "*.jpg"))):
        age, gender = (int(x) for x in os.path.basename(p).split("_")[:2])
        chip = cv2.imread(p)
        img = datasets.load(p, 0, 0.3)
        try:
            face = eng.largest_face(img, attributes=True)
        except facekit.FacekitError:
            rows.append({"age": age, "male": gender == 0, "found": False})
            continue
        rgb = np.ascontiguousarray(img[:, :, ::-1])
        crops = [age_gender_crop(rgb, face.mesh),
                 faceapi_crop(np.ascontiguousarray(chip[:, :, ::-1]), 0, 0, chip.shape[1], chip.shape[0], 112),
                 age_gender_crop(rgb, face.mesh, grow=0.4)]
        ages, males = nets.ages_genders(crops)
        a = face.attributes
        rows.append({"age": age, "male": gender == 0, "found": True,
                     "faceapi_age": float(ages[0]), "faceapi_male": float(males[0]),
                     "chip_age": float(ages[1]), "chip_male": float(males[1]),
                     "grow40_age": float(ages[2]), "grow40_male": float(males[2]),
                     "faceres_age": float(a.age_years), "faceres_male": float(a.male), "faceres_kid": bool(a.kid)})
    return rows


def attribute_table(rows):
    found = [r for r in rows if r["found"]]
    truth_age = np.array([r["age"] for r in found], float)
    truth_male = np.array([r["male"] for r in found])
    out = {"faces": len(found), "of": len(rows)}

    def measure(age, male):
        return {"age_mae": float(np.abs(age - truth_age).mean()),
                "kid18_acc": float(((age < 18) == (truth_age < 18)).mean()),
                "gender_acc": float(((male >= 0.5) == truth_male).mean())}

    fa_age = np.array([r["faceapi_age"] for r in found])
    fa_male = np.array([r["faceapi_male"] for r in found])
    fr_age = np.array([r["faceres_age"] for r in found])
    fr_male = np.array([r["faceres_male"] for r in found])
    out["face-api age_gender, mesh crop (min bbox +20 %, 112)"] = measure(fa_age, fa_male)
    out["face-api age_gender, UTK chip as-is (112)"] = measure(np.array([r["chip_age"] for r in found]),
                                                               np.array([r["chip_male"] for r in found]))
    out["face-api age_gender, mesh box +40 % (112)"] = measure(np.array([r["grow40_age"] for r in found]),
                                                               np.array([r["grow40_male"] for r in found]))
    out["faceres heads (engine)"] = measure(fr_age, fr_male)
    out["faceres heads (engine)"]["engine_kid_flag_vs_lt14"] = float(
        np.mean([r["faceres_kid"] == (r["age"] < 14) for r in found]))
    for w in (0.5, 0.7):
        out[f"fusion: age {w:.1f} face-api + {1 - w:.1f} faceres, P(male) mean"] = measure(
            w * fa_age + (1 - w) * fr_age, (fa_male + fr_male) / 2)
    return out


def timings(models_dir, runs=30):
    torch.set_num_threads(2)
    out = {}
    for name, size in (("face_recognition", 150), ("age_gender", 112), ("faceres", 224)):
        m = torch.jit.load(os.path.join(models_dir, name + ".pt")).eval()
        x = torch.rand(1, size, size, 3)
        with torch.inference_mode():
            for _ in range(5):
                m(x)
            ts = []
            for _ in range(runs):
                t0 = time.perf_counter()
                m(x)
                ts.append(time.perf_counter() - t0)
        out[name] = {"median_ms": 1e3 * float(np.median(ts)), "min_ms": 1e3 * float(np.min(ts))}
    return out


def print_verification(res):
    print("| set | descriptor | faces | genuine / impostor | AUC | EER | TAR@FAR1e-2 | TAR@FAR1e-3 | TAR@FAR1e-4 | "
          "cosine @ FAR 1e-3 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, r in res["sets"].items():
        for k, f in r.items():
            if not isinstance(f, dict) or k.startswith("sweep"):
                continue
            w = f" (w_dlib {f['w_dlib']:.2f})" if "w_dlib" in f else ""
            print(f"| {label} | {k}{w} | {r['faces']} | {f['genuine']} / {f['impostor']} | {f['auc']:.5f} | "
                  f"{f['eer']:.4f} | {f['tar@0.01']:.3f} | {f['tar@0.001']:.3f} | {f['tar@0.0001']:.3f} | "
                  f"{f['thr@0.001']:.3f} |")
    print("\nFusion weight sweep (w_dlib; faceres gets 1 - w):")
    print("| set | dlib crop | w_dlib | AUC | TAR@FAR1e-3 | cosine @ FAR 1e-3 |\n|---|---|---|---|---|---|")
    for label, r in res["sets"].items():
        for k, f in r.items():
            if k.startswith("sweep"):
                _, crop, w = k.split()
                print(f"| {label} | {crop} | {w.split('=')[1]} | {f['auc']:.5f} | {f['tar@0.001']:.3f} | {f['thr@0.001']:.3f} |")
    print("\nImpostor cosine standard deviation (pooled):",
          ", ".join(f"{k} {v:.4f}" for k, v in res["impostor_sd_pooled"].items()))


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=os.path.join(root, "models", "dist"),
                    help="folder with face_recognition.pt, age_gender.pt, faceres.pt (models/convert)")
    ap.add_argument("--no-orl", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--cache", help="npz of the descriptors: computed once, re-used by later runs")
    ap.add_argument("--skip-timings", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    eng, nets = facekit.Engine(), Nets(args.models)
    out = {}
    if not args.skip_timings:
        out["timings"] = timings(args.models)
        print("Timings, batch 1, torch threads 2 (median ms):",
              ", ".join(f"{k} {v['median_ms']:.1f}" for k, v in out["timings"].items()))
    rows = attributes(eng, nets)
    out["attributes"] = attribute_table(rows)
    print(f"\nAge / gender, UTKFace sample ({out['attributes']['faces']}/{out['attributes']['of']} detected):")
    print("| model / crop | age MAE | kid (<18) acc | gender acc |\n|---|---|---|---|")
    for k, v in out["attributes"].items():
        if isinstance(v, dict):
            print(f"| {k} | {v['age_mae']:.2f} | {v['kid18_acc']:.3f} | {v['gender_acc']:.3f} |")
    out["verification"] = verification(eng, nets, not args.no_orl, args.cache)
    print()
    print_verification(out["verification"])
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
