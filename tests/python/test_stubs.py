"""The shipped .pyi stub covers every public name of the compiled module (and help() is useful)."""
import os

import facekit
from facekit import _facekit


def test_stub_names_every_public_class_and_method():
    stub = open(os.path.join(os.path.dirname(facekit.__file__), "_facekit.pyi")).read()
    missing = []
    for name in dir(_facekit):
        if name.startswith("_"):
            continue
        if f"{name}" not in stub:
            missing.append(name)
        obj = getattr(_facekit, name)
        if isinstance(obj, type):
            for member in vars(obj):
                if not member.startswith("_") and f"def {member}(" not in stub and f"    {member}:" not in stub:
                    missing.append(f"{name}.{member}")
    assert not missing, missing


def test_detect_has_a_useful_docstring():
    doc = facekit.Engine.detect.__doc__
    assert "min_face" in doc and "portrait" in doc and "10007" in doc


def test_api_reference_is_generated_from_the_current_docstrings():
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, os.path.join(root, "scripts", "api-docs"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
