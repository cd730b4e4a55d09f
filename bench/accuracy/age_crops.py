"""face-api's age / gender net on other crops of the same faces: crop size (10-40 % around the
68-point box), horizontal-flip averaging, and their means; the engine's figure beside them.
Backs the age row of docs/ACCURACY.md's summary (what was tried for the 3.5-year goal).

usage: OMP_NUM_THREADS=1 .venv/bin/python bench/accuracy/age_crops.py
"""
import sys, os, glob
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, cv2, torch
torch.set_num_threads(1)
import dlib_fusion as D, datasets, facekit
eng = facekit.Engine()
m = torch.jit.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'models', 'dist', 'age_gender.pt')).eval()
rows = []
for p in sorted(glob.glob(os.path.join(datasets.SHARED, "age-gender-utk", "*.jpg"))):
    age, g = (int(x) for x in os.path.basename(p).split("_")[:2])
    img = datasets.load(p, 0, 0.3)
    face = eng.largest_face(img, attributes=True)
    rgb = np.ascontiguousarray(img[:, :, ::-1])
    crops = []
    for grow in (0.1, 0.2, 0.3, 0.4):
        c = D.age_gender_crop(rgb, face.mesh, grow=grow)
        crops += [c, c[:, ::-1]]
    with torch.inference_mode():
        a, mm = m(D.net_input([np.ascontiguousarray(c) for c in crops]))
    rows.append((age, g == 0, a.numpy()[:, 0], mm.numpy()[:, 0], face.attributes.age_years, face.attributes.male))
truth = np.array([r[0] for r in rows]); male = np.array([r[1] for r in rows])
A = np.stack([r[2] for r in rows]); M = np.stack([r[3] for r in rows]); fr_age = np.array([r[4] for r in rows])
names = [f"g{g}{'f' if f else ''}" for g in (0.1, 0.2, 0.3, 0.4) for f in (0, 1)]
for i, n in enumerate(names):
    print(n, "MAE %.2f" % np.abs(A[:, i] - truth).mean(), "gender %.3f" % ((M[:, i] >= 0.5) == male).mean())
for sel, n in (([2, 3], "g0.2 +flip"), ([0, 1, 2, 3], "g0.1-0.2 +flip"), ([2, 3, 4, 5], "g0.2-0.3 +flip"), (list(range(8)), "all")):
    a = A[:, sel].mean(1); mm = M[:, sel].mean(1)
    print(n, "MAE %.2f" % np.abs(a - truth).mean(), "gender(fa) %.3f" % ((mm >= 0.5) == male).mean(),
          "kid14 %.3f" % ((a < 14) == (truth < 14)).mean(), "kid18 %.3f" % ((a < 18) == (truth < 18)).mean())
print("engine now: MAE %.2f" % np.abs(fr_age - truth).mean(), "gender %.3f" % ((np.array([r[5] for r in rows]) >= 0.5) == male).mean())
