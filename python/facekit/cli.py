"""The `facekit` command line: serve, enroll, registry, search, compare, detect, models, bench."""
import argparse
import os
import re
import sys
import time

IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
DEFAULT_REGISTRY = "facekit-registry.db"


def _server_binary():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "bin", "facekit_server")
    if not os.path.isfile(path):
        raise SystemExit(f"facekit: server binary not found at {path} (reinstall the wheel)")
    return path


def _progress(items, desc):
    try:
        from tqdm import tqdm
        return tqdm(items, desc=desc, unit="person", file=sys.stderr)
    except ImportError:
        return items


def _progress_callback(desc):
    """progress(done, total) for native loops: a tqdm bar, or a line every 5 %."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    state = {"bar": None, "last": -1}

    def report(done, total):
        if tqdm is not None:
            if state["bar"] is None:
                state["bar"] = tqdm(total=total, desc=desc, unit="face", file=sys.stderr)
            state["bar"].update(done - state["bar"].n)
        elif total and done * 20 // total != state["last"]:
            state["last"] = done * 20 // total
            print(f"{desc}: {done}/{total}", file=sys.stderr)

    report.close = lambda: state["bar"] and state["bar"].close()
    return report


# Today's two, then the earlier ones (for registries they wrote, until migrated).
DESCRIPTORS = ["accurate", "fast", "faceres+dlib", "faceres"]


def _engine(descriptor="accurate"):
    from . import Engine
    return Engine(descriptor=descriptor)


def cmd_serve(args, extra):
    from . import model_dir
    argv = [_server_binary()]
    if model_dir() and "--model-dir" not in extra:
        argv += ["--model-dir", model_dir()]
    argv += extra
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.execv(argv[0], argv)


def cmd_models(args):
    from . import models
    print(f"{'name':16s} {'MB':>6s}  {'input':18s} {'licence':14s} task")
    for m in models():
        shape = "x".join(str(d) for d in m["input_shape"][1:])
        print(f"{m['name']:16s} {m['bytes'] / 1e6:6.2f}  {shape:18s} {m['weights_licence'][:14]:14s} {m['task']}")
    return 0


def _people(folder):
    """(face_id, [image paths]) from DIR/<id>/*.jpg or DIR/<id>[_n].jpg."""
    people = {}
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if os.path.isdir(path):
            imgs = [os.path.join(path, f) for f in sorted(os.listdir(path)) if f.lower().endswith(IMAGE_EXT)]
            if imgs:
                people.setdefault(entry, []).extend(imgs)
        elif entry.lower().endswith(IMAGE_EXT):
            people.setdefault(re.sub(r"_\d+$", "", os.path.splitext(entry)[0]), []).append(path)
    return people


def cmd_enroll(args):
    from . import FacekitError, Registry
    if not os.path.isdir(args.dir):
        print(f"facekit enroll: {args.dir} is not a folder", file=sys.stderr)
        return 2
    people = _people(args.dir)
    if not people:
        print(f"facekit enroll: no images in {args.dir}", file=sys.stderr)
        return 2
    eng = _engine(args.descriptor)
    reg = Registry(args.registry, eng)
    failures, done = [], 0
    for name, paths in _progress(list(people.items()), "enrolling"):
        if not re.fullmatch(r"\d{1,32}", name):
            failures.append((name, "face_id must be 1-32 digits (name the folder or file by a number)"))
            continue
        try:
            feats, crops = [], []
            for p in paths[:5]:
                try:
                    face = eng.only_face(p)
                except FacekitError as e:
                    raise FacekitError(f"{os.path.basename(p)}: {e}") from None
                feats.append(eng.extract(p, face.landmarks))
                if not args.no_crops:
                    crops.append(eng.face_crop(p, face.landmarks))
            reg.put(args.group, name, feats, crops)
            done += 1
        except FacekitError as e:
            failures.append((name, str(e)))
    print(f"enrolled {done} of {len(people)} people into group '{args.group}' of {args.registry}")
    for name, why in failures:
        print(f"  failed {name}: {why}")
    return 0 if not failures else 1


def cmd_registry(args):
    from . import migrate_registry
    if args.action == "migrate":
        if not os.path.isfile(args.path):
            print(f"facekit registry migrate: no registry file {args.path}", file=sys.stderr)
            return 2
        eng = _engine(args.descriptor)
        progress = _progress_callback("migrating")
        r = migrate_registry(args.path, eng, progress, args.drop_without_crop)
        progress.close()
        if not r["done"]:
            print(f"{args.path} already holds {r['to_model']} features: nothing to do")
            return 0
        print(f"migrated {args.path}: {r['from_model']} -> {r['to_model']}; {r['described']} features re-described"
              f" now, {r['resumed']} by an earlier run, {r['dropped']} without a kept crop removed")
        return 0
    return 2


def cmd_search(args):
    from . import Registry
    eng = _engine(args.descriptor)
    reg = Registry(args.registry, eng)
    hits = reg.search_score(args.group, eng.extract(args.image), args.topk, args.score)
    if not hits:
        print("no match")
        return 1
    for fid, score in hits:
        print(f"{fid}\t{score:.2f}")
    return 0


def cmd_compare(args):
    eng = _engine()
    score = eng.compare(args.a, args.b)
    same = score >= args.threshold
    print(f"{score:.2f}\t{'same person' if same else 'different people'}")
    return 0 if same else 1


def cmd_detect(args):
    import cv2
    eng = _engine()
    img = cv2.imread(args.image)
    if img is None:
        print(f"facekit detect: cannot read {args.image}", file=sys.stderr)
        return 2
    faces = eng.detect(img, min_face=args.min_face, max_face=args.max_face, portrait=args.portrait,
                       attributes=args.attributes)
    for i, f in enumerate(faces):
        b = f.box
        line = (f"{i}\tbox={b.left:.0f},{b.top:.0f},{b.width:.0f},{b.height:.0f}\tscore={f.score:.3f}\t"
                f"yaw={f.quality.yaw:.0f}\tquality={int(f.quality.good)}\tglasses={int(f.glasses)}")
        if f.attributes:
            line += f"\tmale={f.attributes.male:.2f}\tage={f.attributes.age_years:.0f}"
        print(line)
        if args.out:
            cv2.rectangle(img, (int(b.left), int(b.top)), (int(b.left + b.width), int(b.top + b.height)), (0, 255, 0), 2)
            for x, y in f.landmarks:
                cv2.circle(img, (int(x), int(y)), 3, (0, 0, 255), -1)
    if args.out:
        cv2.imwrite(args.out, img)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0 if faces else 1


def cmd_bench(args):
    import cv2
    import numpy as np
    eng = _engine()
    img = cv2.imread(args.image) if args.image else None
    if img is None:
        raise SystemExit("facekit bench: give a readable --image with a face")
    eng.detect(img)
    times = {"detect": [], "extract": []}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        faces = eng.detect(img)
        t1 = time.perf_counter()
        if faces:
            eng.extract_faces(img, [f.landmarks for f in faces])
        t2 = time.perf_counter()
        times["detect"].append((t1 - t0) * 1000)
        times["extract"].append((t2 - t1) * 1000)
    for k, v in times.items():
        print(f"{k:8s} median {np.median(v):7.1f} ms   p90 {np.percentile(v, 90):7.1f} ms")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="facekit", description="facekit: face recognition engine")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the zmq server (options after `serve` go to facekit_server)")
    sub.add_parser("models", help="list the bundled models")
    p = sub.add_parser("enroll", help="register every person of a folder (DIR/<face_id>/*.jpg or DIR/<face_id>.jpg)")
    p.add_argument("dir")
    p.add_argument("--group", required=True)
    p.add_argument("--registry", default=DEFAULT_REGISTRY)
    p.add_argument("--descriptor", choices=DESCRIPTORS, default="accurate")
    p.add_argument("--no-crops", action="store_true", help="do not keep face crops (no later migration)")
    p = sub.add_parser("registry", help="registry maintenance: `migrate PATH` re-describes every face "
                                        "with the current models from its kept crop")
    p.add_argument("action", choices=["migrate"])
    p.add_argument("path")
    p.add_argument("--descriptor", choices=DESCRIPTORS, default="accurate")
    p.add_argument("--drop-without-crop", action="store_true",
                   help="remove faces registered without a kept crop instead of refusing")
    p = sub.add_parser("search", help="1:N search of the largest face of IMG")
    p.add_argument("image")
    p.add_argument("--group", required=True)
    p.add_argument("--registry", default=DEFAULT_REGISTRY)
    p.add_argument("--topk", type=int, default=5)
    p.add_argument("--descriptor", choices=DESCRIPTORS, default="accurate")
    p.add_argument("--score", type=float, default=70.0)
    p = sub.add_parser("compare", help="1:1: score of the largest faces of A and B (exit 0 if same person)")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--threshold", type=float, default=70.0)
    p = sub.add_parser("detect", help="faces of IMG; --out draws them")
    p.add_argument("image")
    p.add_argument("--out")
    p.add_argument("--min-face", type=int, default=20)
    p.add_argument("--max-face", type=int, default=0, help="0: no maximum")
    p.add_argument("--portrait", action="store_true")
    p.add_argument("--attributes", action="store_true")
    p = sub.add_parser("bench", help="median detect / extract latency on one image")
    p.add_argument("--image", required=True)
    p.add_argument("--runs", type=int, default=20)
    args, extra = ap.parse_known_args(argv)
    if args.command == "serve":
        return cmd_serve(args, extra)
    if extra:
        ap.error(f"unrecognized arguments: {' '.join(extra)}")
    from . import FacekitError
    try:
        return {"models": cmd_models, "enroll": cmd_enroll, "search": cmd_search, "compare": cmd_compare,
                "detect": cmd_detect, "bench": cmd_bench, "registry": cmd_registry}[args.command](args)
    except FacekitError as e:
        print(f"facekit {args.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
