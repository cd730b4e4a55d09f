"""facekit: face detection, recognition and analytics on a C++ engine.

    >>> import facekit
    >>> [m["name"] for m in facekit.models()]
"""
import os as _os

from . import _facekit
from ._facekit import FacekitError, __version__

__all__ = ["FacekitError", "ModelRuntime", "model_dir", "models", "__version__"]

_BUNDLED_MODELS = _os.path.join(_os.path.dirname(__file__), "_models")


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
