"""Real labelled photos for accuracy figures (never copied into the project: read in place)."""
import glob
import os

import cv2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("FACEKIT_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
PACKAGES = os.environ.get("FACEKIT_PACKAGES", os.path.expanduser("~/.cache/facekit/packages"))
SAMPLES = os.path.join(PACKAGES, "@vladmandic_face-api@1.7.15", "package", "demo")


def faces_dev():
    """(identity, path) for each single-person photo of faces-dev (BBT crops included)."""
    base = os.path.join(SHARED, "faces-dev")
    out = []
    for d in sorted(glob.glob(os.path.join(base, "*")) + glob.glob(os.path.join(base, "bbt", "*"))):
        name = os.path.basename(d)
        if not os.path.isdir(d) or name in ("multi", "bbt"):
            continue
        for p in sorted(glob.glob(os.path.join(d, "*"))):
            if p.lower().endswith((".jpg", ".jpeg", ".png")):
                out.append((name, p))
    return out


def orl():
    """(identity, path) for ORL / AT&T faces (grey 92x112)."""
    out = []
    for d in sorted(glob.glob(os.path.join(SHARED, "orl-faces", "s*"))):
        for p in sorted(glob.glob(os.path.join(d, "*.pgm"))):
            out.append(("orl-" + os.path.basename(d), p))
    return out


def sample_group_photos():
    return sorted(glob.glob(os.path.join(SAMPLES, "sample*.jpg")))


def load(path, min_side=0, pad=0.0):
    """BGR image; small crops are upscaled to min_side and padded so a detector sees context."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(path)
    if min_side and min(img.shape[:2]) < min_side:
        k = min_side / min(img.shape[:2])
        img = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    if pad:
        p = int(pad * max(img.shape[:2]))
        img = cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return img


def aflw_pose(row):
    """A row of shared/data/head-pose/pose_degrees.csv as (yaw, pitch, roll) degrees the way
    the engine reads pose: each angle in [-180, 180), yaw within +-90. Past +-90 of yaw the
    labels take the other Euler branch of the same rotation, (yaw, pitch, roll) =
    (180 - yaw, pitch + 180, roll + 180): image00091's (-96, 196, -201) is (-84, 16, -21)."""
    def wrap(a):
        return (a + 180.0) % 360.0 - 180.0
    yaw, pitch, roll = (wrap(float(row[k])) for k in ("yaw_deg", "pitch_deg", "roll_deg"))
    if abs(yaw) > 90:
        yaw, pitch, roll = wrap(180 - yaw), wrap(pitch + 180), wrap(roll + 180)
    return yaw, pitch, roll
