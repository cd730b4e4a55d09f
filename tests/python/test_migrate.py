"""Model upgrades without lost registrations: kept face crops and `facekit registry migrate`,
on a registry file built by an earlier release (tests/data/registry-fast-v1.db: that release's
descriptor "fast", faceres alone, today's "faceres"; crops kept; person 9 registered without a
crop)."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

import facekit

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "registry-fast-v1.db")


@pytest.fixture(scope="module")
def engines():
    return {"accurate": facekit.Engine(), "fast": facekit.Engine(descriptor="fast"),
            "old": facekit.Engine(descriptor="faceres")}


@pytest.fixture
def old_registry(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    return path


def dev(shared_data, rel):
    return os.path.join(shared_data, "faces-dev", rel)


def test_fixture_is_what_the_old_release_made(old_registry, engines, shared_data):
    reg = facekit.Registry(old_registry, engines["old"])
    assert reg.count("people") == 4
    hits = reg.search_score("people", engines["old"].extract(dev(shared_data, "obama/obama2.jpg")))
    assert hits[0][0] == "1" and hits[0][1] >= 70
    for today in ("accurate", "fast"):
        with pytest.raises(facekit.FacekitError, match="registry migrate"):
            facekit.Registry(old_registry, engines[today])


def test_migration_refuses_faces_without_a_crop_and_changes_nothing(old_registry, engines):
    with pytest.raises(facekit.FacekitError, match="no kept crop"):
        facekit.migrate_registry(old_registry, engines["accurate"])
    assert facekit.Registry(old_registry, engines["old"]).count("people") == 4


def test_interrupted_migration_resumes_and_ends_on_the_new_model(old_registry, engines, shared_data):
    acc = engines["accurate"]

    def interrupt(done, total):
        raise KeyboardInterrupt  # after the first batch was committed

    with pytest.raises(KeyboardInterrupt):
        facekit.migrate_registry(old_registry, acc, interrupt, drop_without_crop=True)
    # Interrupted: still the old model's registry, whole.
    assert facekit.Registry(old_registry, engines["old"]).count("people") == 4

    seen = []
    r = facekit.migrate_registry(old_registry, acc, lambda d, t: seen.append((d, t)), drop_without_crop=True)
    assert r["done"] and r["resumed"] == 4 and r["described"] == 0 and r["dropped"] == 1
    assert r["from_model"] == engines["old"].feature_model_id and r["to_model"] == acc.feature_model_id

    reg = facekit.Registry(old_registry, acc)
    assert reg.count("people") == 3 and not reg.contains("people", "9")
    for probe, want in (("obama/obama2.jpg", "1"), ("biden/biden2.jpg", "2"), ("kit_harington/kit3.jpg", "3")):
        hits = reg.search_score("people", acc.extract(dev(shared_data, probe)))
        assert hits and hits[0][0] == want and hits[0][1] >= 70, (probe, hits)
    # A migrated feature is the descriptor of the kept crop: nearly the photo's own.
    direct = acc.extract(dev(shared_data, "biden/biden1.jpg"))
    assert reg.search("people", direct, 1)[0].cosine > 0.97
    with sqlite3.connect(old_registry) as db:
        assert db.execute("SELECT COUNT(*) FROM crops").fetchone()[0] == 4  # crops stay for the next upgrade
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'migrated'").fetchone() is None
    # Nothing left to do.
    assert not facekit.migrate_registry(old_registry, acc)["done"]


def test_cli_migrates_with_progress(old_registry):
    out = subprocess.run([sys.executable, "-m", "facekit.cli", "registry", "migrate", str(old_registry),
                          "--drop-without-crop"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "3 features re-described" in out.stdout or "4 features re-described" in out.stdout
    assert "1 without a kept crop removed" in out.stdout
    refused = subprocess.run([sys.executable, "-m", "facekit.cli", "registry", "migrate", str(old_registry) + ".x"],
                             capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2


def test_enroll_keeps_one_crop_per_photo(tmp_path, engines, shared_data):
    acc = engines["accurate"]
    reg = facekit.Registry(tmp_path / "r.db", acc)
    reg.enroll("g", "7", [dev(shared_data, "obama/obama1.jpg"), dev(shared_data, "obama/obama3.jpg")])
    reg.enroll("g", "8", [dev(shared_data, "biden/biden1.jpg")], keep_face_crops=False)
    with sqlite3.connect(tmp_path / "r.db") as db:
        assert db.execute("SELECT COUNT(*) FROM crops").fetchone()[0] == 2
    reg.enroll("g", "7", [dev(shared_data, "obama/obama2.jpg")])  # a replaced person's crops go with it
    assert reg.remove("g", "8")
    with sqlite3.connect(tmp_path / "r.db") as db:
        assert db.execute("SELECT COUNT(*) FROM crops").fetchone()[0] == 1
    crop = acc.face_crop(dev(shared_data, "obama/obama1.jpg"),
                         acc.only_face(dev(shared_data, "obama/obama1.jpg")).landmarks)
    assert crop.jpeg[:2] == b"\xff\xd8" and crop.landmarks.shape == (5, 2)
    assert float(np.dot(acc.extract_crop(crop), acc.extract(dev(shared_data, "obama/obama1.jpg")))) > 0.97


def test_a_models_folder_from_before_mobilefacenet_names_the_missing_model(tmp_path, shared_data):
    """A models folder converted before 2026-12-01 has no mobilefacenet: today's descriptors
    refuse with the model's name and the way forward; the earlier ones still run there."""
    src = facekit.model_dir()
    manifest = json.load(open(os.path.join(src, "manifest.json")))
    del manifest["models"]["mobilefacenet"]
    for name in os.listdir(src):
        if name.endswith(".pt") and name != "mobilefacenet.pt":
            os.symlink(os.path.join(src, name), tmp_path / name)
    with open(tmp_path / "manifest.json", "w") as f:
        json.dump(manifest, f)
    for today in ("accurate", "fast"):
        with pytest.raises(facekit.FacekitError, match="mobilefacenet model .*models/convert") as err:
            facekit.Engine(str(tmp_path), descriptor=today)
        assert err.value.code == "model_unavailable"
    old = facekit.Engine(str(tmp_path), descriptor="faceres+dlib")
    assert old.dimension == 1024 + 128
    assert old.compare(dev(shared_data, "obama/obama1.jpg"), dev(shared_data, "obama/obama2.jpg")) >= 70
