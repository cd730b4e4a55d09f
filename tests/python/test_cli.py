"""The `facekit` command line, run as a user would (subprocess)."""
import os
import shutil
import subprocess
import sys

import pytest

FACEKIT = [sys.executable, "-m", "facekit.cli"]


def run(*args, cwd=None):
    return subprocess.run(FACEKIT + list(args), capture_output=True, text=True, cwd=cwd, timeout=300)


def dev(shared, rel):
    return os.path.join(shared, "faces-dev", rel)


def test_models_lists_every_model():
    r = run("models")
    assert r.returncode == 0
    for name in ("blazeface-back", "facemesh", "faceres"):
        assert name in r.stdout


def test_detect_writes_an_annotated_image(tmp_path, shared_data):
    out = tmp_path / "annotated.jpg"
    r = run("detect", dev(shared_data, "multi/obama_and_biden.jpg"), "--min-face", "40", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 3 and out.stat().st_size > 10000


def test_detect_exit_codes(tmp_path):
    assert run("detect", "/usr/share/doc/opencv-doc/examples/data/building.jpg").returncode == 1
    assert run("detect", str(tmp_path / "missing.jpg")).returncode == 2


def test_compare_exit_code_says_same_or_not(shared_data):
    same = run("compare", dev(shared_data, "obama/obama1.jpg"), dev(shared_data, "obama/obama2.jpg"))
    assert same.returncode == 0 and "same person" in same.stdout
    diff = run("compare", dev(shared_data, "obama/obama1.jpg"), dev(shared_data, "biden/biden1.jpg"))
    assert diff.returncode == 1 and "different" in diff.stdout


def test_enroll_then_search(tmp_path, shared_data):
    people = tmp_path / "people"
    (people / "1").mkdir(parents=True)
    (people / "2").mkdir()
    (people / "alice").mkdir()
    shutil.copy(dev(shared_data, "obama/obama1.jpg"), people / "1")
    shutil.copy(dev(shared_data, "obama/obama3.jpg"), people / "1")
    shutil.copy(dev(shared_data, "biden/biden1.jpg"), people / "2")
    shutil.copy(dev(shared_data, "biden/biden1.jpg"), people / "alice")
    reg = str(tmp_path / "reg.db")
    r = run("enroll", str(people), "--group", "staff", "--registry", reg)
    assert r.returncode == 1  # one failure, reported
    assert "enrolled 2 of 3" in r.stdout and "failed alice" in r.stdout
    hit = run("search", dev(shared_data, "obama/obama2.jpg"), "--group", "staff", "--registry", reg)
    assert hit.returncode == 0 and hit.stdout.split()[0] == "1"
    miss = run("search", dev(shared_data, "obama/obama2.jpg"), "--group", "nobody", "--registry", reg)
    assert miss.returncode == 1 and "no match" in miss.stdout


def test_bad_usage_exits_2():
    assert run("enroll").returncode == 2
    assert run("frobnicate").returncode == 2
