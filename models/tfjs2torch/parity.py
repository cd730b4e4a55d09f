"""Parity of converted TorchScript files against their reference runtimes (TF.js, TFLite) in Node.

usage: python3 -m tfjs2torch.parity --packages DIR --models DIR [--images IMG ...] [--report FILE]

Each model gets the same inputs in both runtimes: real photos (or face crops) resized to its
input and pre-processed as its manifest says, plus one uniform random tensor. Pass criteria,
per output: max |torch - tfjs| <= 1e-3 x (range of the tfjs output), cosine >= 0.9999.

An int8 model (`quantized` in the catalog) is held to its own bound instead (cosine >=
quantized.parity.min_cosine on real face chips, no random tensor: int8 ranges are calibrated
on faces, and a uniform tensor lies far outside them).

Graph models run in TF.js's graph executor (../parity/reference.js); TFLite files in Google's
TFLite runtime built for WASM (../parity/tflite.js, from @tensorflow/tfjs-tflite), two inputs
a call where the file's batch is two. Weights-only models (face-api's nets, `architecture` in
the catalog) run face-api's own JS code (../parity/faceapi.js), which takes the raw RGB crop
and normalises it itself.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import torch

from .convert import CATALOG, package_dir
from .quantize import use_onednn

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(os.path.dirname(HERE), "parity")
MAX_DIFF_OF_RANGE = 1e-3
MIN_COSINE = 0.9999


def raw_pixels(bgr, spec):
    """A uint8 BGR image resized to the model's input, in its colour order, float32 0..255 (HWC)."""
    shape = spec["shape"]
    h, w = (shape[2], shape[3]) if spec["layout"] == "NCHW" else (shape[1], shape[2])
    img = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)
    if spec["colour"] == "RGB":
        img = img[:, :, ::-1]
    return img.astype(np.float32)


def normalise(raw, spec):
    """Raw pixels (HWC, model colour order) -> the model's input tensor."""
    x = (raw - np.array(spec["mean"], np.float32)) * np.float32(spec["scale"])
    x = x[None]
    if spec["layout"] == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.float32)


def preprocess(bgr, spec):
    """A uint8 BGR image -> the model's input tensor as the manifest describes it."""
    return normalise(raw_pixels(bgr, spec), spec)


def compare(ref, got, rng, min_cosine=MIN_COSINE, max_diff_of_range=MAX_DIFF_OF_RANGE):
    """rng: the output's range over all inputs of the run (a 1-value output has none alone)."""
    ref = ref.astype(np.float64).reshape(-1)
    got = got.astype(np.float64).reshape(-1)
    diff = float(np.abs(ref - got).max()) if ref.size else 0.0
    denom = np.linalg.norm(ref) * np.linalg.norm(got)
    cos = float(ref @ got / denom) if denom > 0 else (1.0 if diff == 0 else 0.0)
    ok = diff <= max_diff_of_range * max(rng, 1e-6) and cos >= min_cosine
    return {"max_abs_diff": diff, "range": rng, "cosine": cos, "ok": bool(ok)}


def run_reference(model_path, entry, inputs, work):
    """TF.js's graph executor, or for a TFLite file Google's TFLite runtime (WASM)."""
    files = []
    for i, x in enumerate(inputs):
        path = os.path.join(work, f"in{i}.f32")
        x.tofile(path)
        files.append({"file": path, "shape": list(x.shape)})
    job = {"model": model_path, "input_node": entry["input_node"],
           "outputs": [o["node"] for o in entry["outputs"]], "inputs": files, "out_dir": work}
    return run_node("tflite.js" if entry.get("format") == "tflite" else "reference.js", job, work)


def run_faceapi_reference(root, entry, raws, work):
    """face-api's own net in Node on raw RGB crops (float32 0..255, [1, H, W, 3])."""
    files = []
    for i, x in enumerate(raws):
        path = os.path.join(work, f"in{i}.f32")
        np.ascontiguousarray(x, dtype=np.float32).tofile(path)
        files.append({"file": path, "shape": list(x.shape)})
    job = {"package_dir": root, "net": entry["architecture"].split()[-1],
           "weights_manifest": os.path.join(root, entry["path"]), "inputs": files, "out_dir": work}
    return run_node("faceapi.js", job, work)


def run_node(script, job, work):
    """Runs models/parity/<script> on `job` (written to work/job.json); its outputs per input."""
    job_path = os.path.join(work, "job.json")
    with open(job_path, "w") as f:
        json.dump(job, f)
    subprocess.run(["node", os.path.join(NODE_DIR, script), job_path], check=True)
    shapes = json.load(open(os.path.join(work, "shapes.json")))
    return [[np.fromfile(os.path.join(work, f"{i}_{k}.f32"), np.float32).reshape(s)
             for k, s in enumerate(out_shapes)] for i, out_shapes in enumerate(shapes)]


def _label(item, i):
    return os.path.basename(item) if isinstance(item, str) else f"crop{i}"


def check_model(name, entry, packages, models_dir, images):
    """images: paths, or uint8 BGR arrays (e.g. face crops); one random tensor is added (not
    for an int8 model)."""
    spec = entry["input"]
    bgrs = [cv2.imread(p) if isinstance(p, str) else p for p in images]
    root = package_dir(packages, entry["package"])
    quantized = "quantized" in entry
    bounds = {}
    if quantized:
        use_onednn()  # before the load: its weights are packed for the engine current then
        bounds = {"min_cosine": entry["quantized"]["parity"]["min_cosine"], "max_diff_of_range": float("inf")}
    module = torch.jit.load(os.path.join(models_dir, f"{name}.pt"))
    with tempfile.TemporaryDirectory() as work:
        if "architecture" in entry:
            if spec["layout"] != "NHWC" or spec["colour"] != "RGB":
                raise ValueError(f"{name}: face-api nets take NHWC RGB")
            raws = [raw_pixels(b, spec)[None] for b in bgrs]
            if not quantized:
                rand = np.random.default_rng(7).random(spec["shape"], dtype=np.float32)
                raws.append((255.0 * rand).astype(np.float32))
            inputs = [normalise(r[0], spec) for r in raws]
            refs = run_faceapi_reference(root, entry, raws, work)
        else:
            inputs = [preprocess(b, spec) for b in bgrs]
            rand = np.random.default_rng(7).random(spec["shape"], dtype=np.float32)
            lo, hi = _input_range(spec)
            inputs.append((lo + (hi - lo) * rand).astype(np.float32))
            refs = run_reference(os.path.join(root, entry["path"]), entry, inputs, work)
    results = []
    ranges = [max(float(max(r[k].max() for r in refs) - min(r[k].min() for r in refs)), 1e-6)
              for k in range(len(entry["outputs"]))]
    with torch.inference_mode():
        for i, x in enumerate(inputs):
            outs = module(torch.from_numpy(x))
            for k, out in enumerate(outs):
                r = compare(refs[i][k], out.numpy(), ranges[k], **bounds)
                r.update(input="random" if i == len(images) else _label(images[i], i),
                         output=entry["outputs"][k]["name"])
                results.append(r)
    return results


def _input_range(spec):
    if spec["scale"] == 1.0:
        return -float(max(spec["mean"])), 255.0 - float(min(spec["mean"]))
    return -float(max(spec["mean"])) * spec["scale"], (255.0 - float(min(spec["mean"]))) * spec["scale"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packages", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--images", nargs="+", required=True)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--report")
    args = ap.parse_args(argv)
    catalog = json.load(open(CATALOG))["models"]
    report, failed = {}, []
    for name, entry in catalog.items():
        if args.only and name not in args.only:
            continue
        results = check_model(name, entry, args.packages, args.models, args.images)
        report[name] = results
        worst = min(r["cosine"] for r in results)
        worst_diff = max(r["max_abs_diff"] / max(r["range"], 1e-6) for r in results)
        ok = all(r["ok"] for r in results)
        print(f"parity {name:16s} {'ok  ' if ok else 'FAIL'} min cosine {worst:.6f}  "
              f"max diff/range {worst_diff:.2e}", flush=True)
        if not ok:
            failed.append(name)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
