"""Builds tests/data/registry-fast-v1.db: a registry as facekit 0.x (descriptor "fast",
keep_face_crops on) leaves it, for the migration test (tests/python/test_migrate.py).

usage: python tests/data/make_registry_fixture.py [SHARED_DATA]

Kept as it was built: re-running it with a later release makes a different file, which is
the point of the fixture (today's registries must migrate with tomorrow's code). Faces:
faces-dev photos (ageitgey/face_recognition examples, MIT). Person 1 obama1, 2 biden1,
3 kit1 and kit2, 9 alex_lacamoire registered without a kept crop.
"""
import os
import sys

import facekit

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "registry-fast-v1.db")


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data")
    dev = lambda rel: os.path.join(shared, "faces-dev", rel)  # noqa: E731
    if os.path.exists(OUT):
        os.remove(OUT)
    eng = facekit.Engine(descriptor="faceres")  # that release's "fast"
    reg = facekit.Registry(OUT, eng)
    reg.enroll("people", "1", [dev("obama/obama1.jpg")])
    reg.enroll("people", "2", [dev("biden/biden1.jpg")])
    reg.enroll("people", "3", [dev("kit_harington/kit1.jpg"), dev("kit_harington/kit2.jpg")])
    reg.enroll("people", "9", [dev("alex_lacamoire/alex1.jpg")], keep_face_crops=False)
    del reg
    for suffix in ("-wal", "-shm"):
        if os.path.exists(OUT + suffix):
            os.remove(OUT + suffix)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes), model {eng.feature_model_id}")


if __name__ == "__main__":
    main()
