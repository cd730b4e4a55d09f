"""Registry at scale: N vectors of the engine's dimension in one group.

usage: python bench/registry/bench_registry.py [--n 100000] [--queries 200] [--data uniform|faces]
--data uniform: random unit vectors, random unit queries (the issue's worst case);
--data faces: face-like descriptors (face_like.py: the statistics of the engine's descriptors of
real photos), each query another "photo" of a registered person.
facekit (SQLite + hnswlib, M=16, ef_construction=200): bulk registration rate with SQLite on,
RSS growth, snapshot size, re-open (load) time, and per ef_search: single-thread search
latency (median / p99, through the Python binding) and recall@1 / recall@5 against exact
brute force. The same vectors through FAISS 1.7.3 (IndexHNSWFlat, same M / ef_construction,
inner product; IndexFlatIP exact) in the same process.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np

import facekit
import face_like


def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def dir_mb(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)) / 1e6


def recall(found, truth, k):
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)]))


def timed_queries(fn, queries):
    out, ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        out.append(fn(q))
        ms.append((time.perf_counter() - t0) * 1000)
    return out, float(np.median(ms)), float(np.percentile(ms, 99))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--dim", type=int, default=192, help="the engine's dimension (fast: 192, accurate: 320; --data faces needs one of them)")
    ap.add_argument("--no-faiss", action="store_true", help="skip the FAISS comparison")
    ap.add_argument("--data", choices=("uniform", "faces"), default="uniform")
    ap.add_argument("--ef", default="16,32,64,128", help="ef_search values to measure")
    ap.add_argument("--m", type=int, default=16, help="HNSW links per node (M)")
    ap.add_argument("--insert-threads", type=int, default=0, help="threads inserting in bulk (0: one per core)")
    ap.add_argument("--keep", metavar="DIR", help="keep the registry (registry.db + index) in DIR")
    ap.add_argument("--reuse", metavar="DIR", help="measure the registry kept in DIR (same --n / --data) "
                                                   "instead of building one")
    args = ap.parse_args()
    efs = [int(e) for e in args.ef.split(",")]
    rng = np.random.default_rng(0)
    if args.data == "faces":
        # The descriptor whose dimension was asked for: 192 fast (MobileFaceNet), 320 accurate.
        kind = {192: "fast", 320: "accurate"}.get(args.dim)
        if kind is None:
            ap.error("--data faces needs --dim 192 (fast) or 320 (accurate)")
        gen = face_like.FaceLike(*face_like.real_descriptors(
            os.path.join(os.environ.get("FACEKIT_CACHE", tempfile.gettempdir()), "bench"), descriptor=kind))
        print("face-like descriptors, median cosines:", {k: round(v, 3) for k, v in gen.check().items()})
        data = np.concatenate([gen.faces(min(50000, args.n - s)) for s in range(0, args.n, 50000)])
        source = rng.choice(args.n, args.queries, replace=False)
        queries = gen.other_photos(data[source])
    else:
        data = rng.standard_normal((args.n, args.dim), dtype=np.float32)
        data /= np.linalg.norm(data, axis=1, keepdims=True)
        queries = rng.standard_normal((args.queries, args.dim), dtype=np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = np.stack([np.argsort(-(data @ q))[:5] for q in queries])
    if args.data == "faces":
        print(f"the exact nearest neighbour is the query's own person for "
              f"{np.mean(truth[:, 0] == source):.3f} of the queries")
    ids = [str(i) for i in range(args.n)]
    work = tempfile.mkdtemp(prefix="facekit-regbench-")
    path = os.path.join(args.reuse or work, "registry.db")
    print(f"{args.n} vectors x {args.dim} (raw {data.nbytes / 1e6:.0f} MB), {args.queries} queries\n")
    # The engine's model id, so bench/server/run.py --registry can serve what was built here.
    model_id = (facekit.Engine(descriptor="fast" if args.dim == 192 else "accurate").feature_model_id
                if args.dim in (192, 320) else "bench")
    if args.reuse:
        rows = [("facekit (registry reused)", "", "", f"snapshot {dir_mb(path + '.index'):.0f} MB, "
                                                     f"SQLite {os.path.getsize(path) / 1e6:.0f} MB")]
    else:
        rss0 = rss_mb()
        reg = facekit._facekit.NativeRegistry(path, args.dim, model_id, hnsw_m=args.m,
                                             insert_threads=args.insert_threads)
        t0 = time.time()
        for start in range(0, args.n, 5000):
            reg.put_many("g", ids[start:start + 5000], data[start:start + 5000])
        build = time.time() - t0
        rss = rss_mb() - rss0
        reg.save_snapshot()
        snap = dir_mb(path + ".index")
        del reg
        threads = args.insert_threads or os.cpu_count()
        rows = [(f"facekit build (SQLite + HNSW, M {args.m}, {threads} insert threads)", f"{build:.1f} s ({args.n / build:.0f} rows/s)", f"{rss:.0f} MB RSS",
                 f"snapshot {snap:.0f} MB, SQLite {os.path.getsize(path) / 1e6:.0f} MB")]
    results = []
    for ef in efs:
        rss0 = rss_mb()
        t0 = time.time()
        r = facekit._facekit.NativeRegistry(path, args.dim, model_id, hnsw_m=args.m, hnsw_ef_search=ef)
        load = time.time() - t0
        if ef == efs[0]:
            rows.append(("facekit re-open (snapshot + check against SQLite)", f"{load:.1f} s",
                         f"{rss_mb() - rss0:.0f} MB RSS ({(rss_mb() - rss0) / (data.nbytes / 1e6):.2f}x the raw vectors)",
                         ""))
        found, p50, p99 = timed_queries(lambda q: [int(h.face_id) for h in r.search("g", q, 5)], queries)
        results.append(("facekit HNSW", ef, p50, p99, recall(found, truth, 1), recall(found, truth, 5), load))
        del r
    report(rows, results)
    rows, results = [], []
    try:
        import faiss
    except ImportError:
        faiss = None
    if args.no_faiss:
        faiss = None
    if faiss is not None:
        faiss.omp_set_num_threads(1)
        t0 = time.time()
        index = faiss.IndexHNSWFlat(args.dim, 16, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 200
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        index.add(data)
        fbuild = time.time() - t0
        rows.append(("FAISS IndexHNSWFlat build", f"{fbuild:.1f} s ({args.n / fbuild:.0f} rows/s)", "", ""))
        faiss.omp_set_num_threads(1)
        for ef in efs:
            index.hnsw.efSearch = ef
            found, p50, p99 = timed_queries(lambda q: index.search(q[None], 5)[1][0].tolist(), queries)
            results.append(("FAISS HNSWFlat", ef, p50, p99, recall(found, truth, 1), recall(found, truth, 5), None))
        flat = faiss.IndexFlatIP(args.dim)
        flat.add(data)
        found, p50, p99 = timed_queries(lambda q: flat.search(q[None], 5)[1][0].tolist(), queries)
        results.append(("FAISS IndexFlatIP (exact)", "-", p50, p99, recall(found, truth, 1), recall(found, truth, 5), None))
    if rows or results:
        report(rows, results)
    if args.keep:
        shutil.move(work, args.keep)
    shutil.rmtree(work, ignore_errors=True)


def report(rows, results):
    print("| build | time | memory | on disk |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\n| index | ef_search | median ms | p99 ms | recall@1 | recall@5 | re-open s |\n|---|---|---|---|---|---|---|")
    for name, ef, p50, p99, r1, r5, load in results:
        print(f"| {name} | {ef} | {p50:.3f} | {p99:.3f} | {r1:.3f} | {r5:.3f} | {'' if load is None else f'{load:.1f}'} |")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
