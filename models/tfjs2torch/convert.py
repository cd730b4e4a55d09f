"""Convert the catalog's TF.js and TFLite models to TorchScript and write manifest.json.

Graph models (model.json + shards) run op by op (graph.py, module.py); so do float TFLite
files (`"format": "tflite"` in the catalog), read into the same graph (tflite.py);
weights-only models (an `architecture` in the catalog: face-api's nets) are rebuilt in torch
(faceapi.py).

usage: python3 -m tfjs2torch.convert --packages DIR --out DIR [--only NAME ...]
DIR/<package@version>/ holds each unpacked npm tarball (models/fetch makes it).
"""
import argparse
import hashlib
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

from . import faceapi
from . import graph as tfgraph
from . import quantize
from . import tflite
from .fold import fold
from .module import GraphModule

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = os.path.join(os.path.dirname(HERE), "catalog.json")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_dir(packages, package):
    return os.path.join(packages, package.replace("/", "_"), "package")


def verify_sources(entry, root):
    for rel in [entry["path"]] + entry["weights"]:
        path = os.path.join(root, rel)
        want = entry["sha256"][rel]
        got = sha256(path)
        if got != want:
            raise SystemExit(f"checksum mismatch for {path}: {got} != {want}")


def convert_one(name, entry, packages, out_dir, catalog):
    root = package_dir(packages, entry["package"])
    verify_sources(entry, root)
    if "quantized" in entry:  # int8 from another entry's float net, calibrated on real faces
        module = quantize.build(entry, catalog, packages, package_dir)
    elif "architecture" in entry:  # weights only: the architecture is rebuilt in torch
        module = faceapi.build(entry, root)
    else:
        read = tflite.load if entry.get("format") == "tflite" else tfgraph.load
        g = fold(read(os.path.join(root, entry["path"])))
        module = GraphModule(g, entry["input_node"], [o["node"] for o in entry["outputs"]]).eval()
    shape = list(entry["input"]["shape"])
    gen = torch.Generator().manual_seed(0)
    example = torch.rand(shape, generator=gen)
    with torch.no_grad():
        module(example)  # eager pass registers the pre-transformed constants
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module, example, check_trace=False)
        if "quantized" in entry:  # weights packed for oneDNN once, at conversion
            traced = torch.jit.freeze(traced.eval())
        check_batch(traced, shape, gen)
    out = os.path.join(out_dir, f"{name}.pt")
    traced.save(out)
    return out


def check_batch(traced, shape, gen):
    """A batch of two must give the same outputs as each image alone."""
    batch = torch.rand([2] + shape[1:], generator=gen)
    together = traced(batch)
    for i in range(2):
        alone = traced(batch[i:i + 1])
        for a, b in zip(alone, together):
            diff = (a[0] - b[i]).abs().max().item()
            scale = max(a.abs().max().item(), 1e-6)
            if diff > 1e-4 * scale + 1e-5:
                raise AssertionError(f"batched output differs from single by {diff}")


def manifest_entry(name, entry, pt_path, packages):
    keys = ("task", "package", "path", "origin", "weights_licence", "input", "preprocessing_source",
            "outputs", "alignment", "architecture", "architecture_source", "quantized")
    m = {k: entry[k] for k in keys if k in entry}
    m["file"] = os.path.basename(pt_path)
    m["sha256"] = sha256(pt_path)
    m["bytes"] = os.path.getsize(pt_path)
    m["package_licence"] = json.load(open(CATALOG))["packages"][entry["package"]]["licence"]
    m["source_sha256"] = entry["sha256"]
    del packages
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packages", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    catalog = json.load(open(CATALOG))
    os.makedirs(args.out, exist_ok=True)
    manifest = {"format": 1, "models": {}}
    for name, entry in catalog["models"].items():
        if args.only and name not in args.only:
            continue
        t0 = time.time()
        pt = convert_one(name, entry, args.packages, args.out, catalog["models"])
        manifest["models"][name] = manifest_entry(name, entry, pt, args.packages)
        print(f"converted {name:22s} {os.path.getsize(pt) / 1e6:6.2f} MB  {time.time() - t0:5.1f} s", flush=True)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
