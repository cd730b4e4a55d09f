"""Synthetic face descriptors with the statistics of real ones, for registry benchmarks at scale.

Uniformly random unit vectors are the worst case for any graph index: in 1,024 dimensions all
their cosines lie within +-0.1 of 0, so a nearest neighbour is barely nearer than the rest.
Real face descriptors are not like that: their variance sits in a few hundred directions, and
another photo of a registered person lies far closer to it than any stranger. This module
measures that structure on the engine's descriptors of the real photos in shared/data
(ORL, faces-dev, UTKFace, AFLW2000, NUAA: ~700 faces, ~70 identities) and samples from it:

- a registered face: the real mean + Gaussian along the real principal axes (their real
  variances), plus an isotropic floor carrying the variance the measured axes leave out;
- a query (another photo of that person): the face + a within-identity deviation drawn from
  the real deviations of photos from their identity's mean.
The sampled genuine / impostor cosines are printed beside the real ones as a check.
"""
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "accuracy"))
import datasets  # noqa: E402


def _labelled_photos():
    items = datasets.faces_dev() + datasets.orl()
    for d in sorted(glob.glob(os.path.join(datasets.SHARED, "spoof-nuaa", "ClientFace", "*"))):
        items += [("nuaa-" + os.path.basename(d), p) for p in sorted(glob.glob(os.path.join(d, "*.jpg")))]
    for p in sorted(glob.glob(os.path.join(datasets.SHARED, "age-gender-utk", "*.jpg")) +
                    glob.glob(os.path.join(datasets.SHARED, "head-pose", "*.jpg"))):
        items.append(("single-" + os.path.basename(p), p))  # one photo per person
    return items


def real_descriptors(cache_dir, descriptor="accurate"):
    """(descriptors, identity labels) of the real photos by the engine's `descriptor` ("accurate":
    320-d, "fast": 192-d), cached in cache_dir per descriptor model (its id: a model change
    makes a new cache)."""
    import hashlib
    import facekit
    eng = facekit.Engine(descriptor=descriptor)
    model = hashlib.sha256(eng.feature_model_id.encode()).hexdigest()[:12]
    path = os.path.join(cache_dir, f"real_descriptors_{descriptor}_{model}.npz")
    if os.path.exists(path):
        z = np.load(path)
        return z["x"], list(z["labels"])
    x, labels = [], []
    for ident, p in _labelled_photos():
        small = "orl-faces" in p or "spoof-nuaa" in p
        img = datasets.load(p, 224 if small else 0, 0.3 if small else 0.0)
        try:
            face = eng.largest_face(img)
        except facekit.FacekitError:
            continue
        x.append(eng.extract_one(img, face.landmarks))
        labels.append(ident)
    x = np.array(x, dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    os.makedirs(cache_dir, exist_ok=True)
    np.savez(path, x=x, labels=np.array(labels))
    return x, labels


class FaceLike:
    def __init__(self, x, labels, seed=0):
        self.rng = np.random.default_rng(seed)
        self.mean = x.mean(axis=0)
        _, s, vt = np.linalg.svd(x - self.mean, full_matrices=False)
        var = s ** 2 / len(x)
        self.axes = vt * np.sqrt(var)[:, None]               # rows: principal axes x their std
        dim = x.shape[1]
        # The sample covariance of ~700 faces has rank < 700: the variance the measured axes leave
        # out (estimated from the tail of the spectrum) is spread evenly over all dimensions.
        self.floor = float(np.sqrt(var[len(var) // 2:].mean() / 2))
        groups = {}
        for i, l in enumerate(labels):
            groups.setdefault(l, []).append(i)
        dev = [x[i] - x[idx].mean(axis=0) for idx in groups.values() if len(idx) >= 3 for i in idx]
        self.deviations = np.array(dev, dtype=np.float32)    # real within-identity deviations
        self.dim = dim
        self.real = x
        self.labels = labels

    def faces(self, n):
        z = self.rng.standard_normal((n, self.axes.shape[0]), dtype=np.float32)
        f = self.mean + z @ self.axes + self.floor * self.rng.standard_normal((n, self.dim), dtype=np.float32)
        return (f / np.linalg.norm(f, axis=1, keepdims=True)).astype(np.float32)

    def other_photos(self, faces):
        """Another photo of each face's person: a random mix of real within-identity deviations."""
        a = self.rng.standard_normal((len(faces), len(self.deviations)), dtype=np.float32)
        # Deviations are from an identity's mean; two photos differ by two of them (x sqrt 2).
        q = faces + (a @ self.deviations) * np.sqrt(2 / len(self.deviations))
        return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)

    def check(self, n=2000):
        """Median genuine / impostor cosines: real photos vs samples."""
        x, labels = self.real, np.array(self.labels)
        sims = x @ x.T
        same = labels[:, None] == labels[None, :]
        off = ~np.eye(len(x), dtype=bool)
        f = self.faces(n)
        q = self.other_photos(f)
        return {"real genuine": float(np.median(sims[same & off])),
                "real impostor": float(np.median(sims[~same])),
                "sampled genuine": float(np.median(np.sum(f * q, axis=1))),
                "sampled impostor": float(np.median((f[: n // 2] * f[n // 2:]).sum(axis=1)))}


if __name__ == "__main__":
    cache = os.path.join(os.environ.get("FACEKIT_CACHE", "/tmp"), "bench")
    gen = FaceLike(*real_descriptors(cache))
    print(len(gen.real), "real descriptors;", gen.check())
