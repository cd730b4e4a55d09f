"""facekit: face detection, recognition and analytics on a C++ engine.

    >>> import facekit
    >>> [m["name"] for m in facekit.models()]
"""
import os as _os

import numpy as _np

from . import _facekit
from ._facekit import FacekitError, __version__
from .client import Client, ProtocolError, ProtocolTimeout

__all__ = ["Client", "Engine", "Face", "FaceCrop", "FaceTracker", "FacekitError", "ModelRuntime", "ProtocolError", "Registry",
           "migrate_registry", "model_dir", "models", "__version__"]

Face = _facekit.Face
FaceCrop = _facekit.FaceCrop
FaceTracker = _facekit.FaceTracker

_BUNDLED_MODELS = _os.path.join(_os.path.dirname(__file__), "_models")


def migrate_registry(path, engine, progress=None, drop_without_crop=False):
    """Re-describe every face of the registry file `path` with `engine` from the crops kept at
    registration (resumable: run it again after an interruption). progress(done, total) is
    called after each batch. Returns a dict: from_model, to_model, features, described,
    resumed, dropped, done. Stop servers using the registry first."""
    return _facekit.migrate_registry(str(path), engine, progress, drop_without_crop)


def model_dir():
    """Where models are read from: $FACEKIT_MODEL_DIR, else the wheel's bundled models."""
    env = _os.environ.get("FACEKIT_MODEL_DIR")
    if env:
        return env
    if _os.path.isfile(_os.path.join(_BUNDLED_MODELS, "manifest.json")):
        return _BUNDLED_MODELS
    return ""  # the C++ build's default (models/dist of the source tree)


def models(directory=None):
    """List the models of the manifest (name, task, source package, licence, sha256, input...)."""
    d = directory or model_dir()
    if not d:
        return ModelRuntime(warm_up=False).models()
    return _facekit.read_manifest(d)


class ModelRuntime(_facekit.ModelRuntime):
    """All converted models loaded once; `run(name, batch)` returns the outputs as numpy."""

    def __init__(self, model_dir_=None, num_threads=0, verify_checksums=True, warm_up=True):
        super().__init__(model_dir_ or model_dir(), num_threads, verify_checksums, warm_up)


class Engine(_facekit.Engine):
    """The face engine. Images are HxWx3 uint8 numpy arrays (BGR like OpenCV, or RGB with
    rgb=True), encoded bytes (JPEG, PNG, ...) or file paths.

        >>> eng = facekit.Engine()
        >>> faces = eng.detect("group.jpg", min_face=40)
        >>> eng.compare("a.jpg", "b.jpg")   # 0-100, >= 70 means the same person
    """

    def __init__(self, model_dir_=None, num_threads=0, cosine_at_threshold=0.0, descriptor="accurate", int8=True):
        """descriptor: "accurate" (MobileFaceNet fused with dlib's ResNet, 320-d, the default) or
        "fast" (MobileFaceNet alone, 192-d, about half the descriptor time); "faceres+dlib" and
        "faceres" are the descriptors before 2026-12-01, for registries they wrote; docs/ACCURACY.md.
        int8: dlib's ResNet as its int8 model (faster, cosine >= 0.997 to the float one's);
        False runs the float model."""
        super().__init__(model_dir_ or model_dir(), num_threads, cosine_at_threshold, descriptor, int8)

    def extract(self, image, landmarks=None, rgb=False):
        """L2-normalised descriptor(s) of the largest face (or of the face at `landmarks`).

        One image -> a 1-D array; a list of images -> a 2-D array (one row per image).
        `landmarks`: 5 (x, y) points per image, skipping detection."""
        if isinstance(image, (list, tuple)):
            return self.extract_batch(list(image), landmarks, rgb)  # one descriptor batch
        return self.extract_one(image, landmarks, rgb)

    def compare(self, a, b, rgb=False):
        """Score 0-100 of two images (largest face each) or two descriptors."""
        fa = a if _is_feature(a) else self.extract_one(a, None, rgb)
        fb = b if _is_feature(b) else self.extract_one(b, None, rgb)
        return self.score(self.cosine(fa, fb))

    def analyze(self, image, min_face=20, max_face=0, portrait=False, rgb=False):
        """detect() with gender and age of every face."""
        return self.detect(image, min_face, max_face, portrait, True, rgb)


def _is_feature(x):
    return isinstance(x, _np.ndarray) and x.ndim == 1 and x.dtype.kind == "f"


class Registry(_facekit.NativeRegistry):
    """A face registry with 1:N search, for features of `engine`'s model: a SQLite file, or a
    PostgreSQL registry shared with servers (`"postgresql://user@host/db"`).

        >>> reg = facekit.Registry("faces.db", eng)
        >>> reg.put("staff", "1", eng.extract("alice.jpg"))
        >>> reg.enroll("staff", "2", ["bob.jpg"])   # detection, descriptors and kept crops
        >>> reg.search_score("staff", eng.extract("probe.jpg"))   # [(face_id, score)]

    Keyword settings: `hnsw_m` (16), `hnsw_ef_construction` (200), `hnsw_ef_search` (64) and
    `insert_threads` (0: one per core, for put_many and rebuilds); on PostgreSQL also
    `change_log_keep` (100000) and `sync_interval_ms` (2000); `snapshot_dir` (SQLite: the
    file's path + ".index"; PostgreSQL: none unless given, one folder per process);
    docs/CONFIGURATION.md.
    """

    def __init__(self, path, engine, **hnsw):
        super().__init__(str(path), engine.dimension, engine.feature_model_id, **hnsw)
        self.engine = engine

    def enroll(self, group, face_id, images, keep_face_crops=True, rgb=False):
        """Register (or replace) a person from 1-5 photos of one face each, keeping each face's
        aligned crop (for `facekit registry migrate`) unless keep_face_crops is False."""
        feats, crops = [], []
        for img in images:
            face = self.engine.only_face(img, rgb)
            feats.append(self.engine.extract_one(img, face.landmarks, rgb))
            if keep_face_crops:
                crops.append(self.engine.face_crop(img, face.landmarks, rgb))
        self.put(group, face_id, feats, crops)

    def search_score(self, group, feature, topk=5, score=70.0):
        """Best `topk` people with the engine's score >= `score`: [(face_id, score)]."""
        hits = self.search(group, feature, topk, self.engine.cosine_for_score(score))
        return [(h.face_id, self.engine.score(h.cosine)) for h in hits]
