"""Past one machine's memory: memory per face, one group split into shards, groups placed on servers.

usage: OPENBLAS_NUM_THREADS=1 python bench/registry/shards.py [--only memory,shards,placement]
           [--memory-faces 20000,40000] [--descriptors accurate,fast] [--postgres-faces 5000]
           [--faces 40000] [--shards 4] [--servers 2] [--queries 200] [--ef 16,64] [--m 16]

The defaults make a quick run (a few minutes on 2 cores); docs/SCALING.md quotes two fuller ones:
--only memory --memory-faces 50000,100000 --postgres-faces 20000, and
--only shards,placement --faces 100000 --ef 16,32,64. The first run also describes the ~650 real
photos face_like.py learns from with each descriptor (cached per descriptor under
$FACEKIT_CACHE/bench/<descriptor>, else /tmp/bench/<descriptor>): a few minutes more.

memory: RSS growth of one file-backed registry (SQLite + HNSW) per registered feature, at the
  accurate (320-d) and fast (192-d) descriptors' dimensions, split into the index's vector
  blocks, its HNSW links (both read from the snapshot's header and sizes) and the rest (face_id
  maps, hnswlib's per-slot locks and levels, allocator overhead); the SQLite file per face with
  and without a kept face crop (real crops of shared/data photos); the same rows in facekit's
  PostgreSQL tables (a throw-away cluster, tests/conformance/postgres.py); the models' RSS.
shards: one group of --faces face-like descriptors split into --shards shards by rendezvous
  hashing of face_id, the shards spread over --servers simulated servers (registries); a
  fan-out search (every shard's top k, merged by cosine) against one registry holding the whole
  group: recall@1 / recall@10 against exact brute force, latency in the same process.
placement: rendezvous (highest random weight) against modulo hashing of groups onto a table of
  live servers: the share of groups that move when a server joins or leaves.
"""
import argparse
import ctypes
import glob
import hashlib
import heapq
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

import face_like
import facekit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "conformance"))
import postgres  # noqa: E402  (the throw-away PostgreSQL of the tests and bench/registry/scaleout.py)

try:
    from tqdm import tqdm
except ImportError:  # progress bars are optional
    def tqdm(it, **_):
        return it

DESCRIPTORS = {"accurate": 320, "fast": 192}
CACHE = os.path.join(os.environ.get("FACEKIT_CACHE", tempfile.gettempdir()), "bench")
MODEL_ID = "bench"
CHUNK = 5000
HNSW_HEADER = 96  # hnswlib 0.6.2 saveIndex: 7 size_t, 2 int, 4 size_t/double fields
GIB = 1 << 30


def rss_bytes():
    """Resident memory of this process after handing freed heap back to the system."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def face_ids(n):
    """12-digit face_ids (the protocol allows 1-32 digits; 12 fit std::string's inline buffer)."""
    return [str(100_000_000_000 + i) for i in range(n)]


# ---- the engine's part, each descriptor in a child process (its models stay out of our RSS) ----

def _engine_facts(kind, crop_photos):
    """The RSS the models add, a few real kept crops, and the real descriptors cached for `kind`."""
    def rss():
        return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    before = rss()
    eng = facekit.Engine(descriptor=kind)
    photos = face_like._labelled_photos()
    crops = []
    for _, p in photos[:: max(1, len(photos) // crop_photos)][:crop_photos]:
        small = "orl-faces" in p or "spoof-nuaa" in p  # as face_like describes them
        img = face_like.datasets.load(p, 224 if small else 0, 0.3 if small else 0.0)
        try:
            face = eng.largest_face(img)
        except facekit.FacekitError:
            continue
        eng.extract_one(img, face.landmarks)
        c = eng.face_crop(img, face.landmarks)
        crops.append((c.jpeg, np.asarray(c.landmarks, dtype=np.float32)))
    models_rss, process_rss = rss() - before, rss()
    del eng
    x, _ = face_like.real_descriptors(os.path.join(CACHE, kind), descriptor=kind)
    return {"dim": x.shape[1], "real": len(x), "models_rss": models_rss, "process_rss": process_rss,
            "crops": crops}


def engine_facts(kind, crop_photos):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_engine_facts, (kind, crop_photos))


def face_like_vectors(kind, n, seed=0):
    gen = face_like.FaceLike(*face_like.real_descriptors(os.path.join(CACHE, kind), descriptor=kind), seed=seed)
    return gen, np.concatenate([gen.faces(min(50000, n - s)) for s in range(0, n, 50000)])


# ---- a: memory per face ----

def snapshot_parts(index_dir):
    """Bytes of the vector blocks, level-0 links (+ labels) and upper-level links in a snapshot."""
    parts = {"vectors": 0, "level0 links + label": 0, "upper links": 0, "slots file": 0}
    for path in glob.glob(os.path.join(index_dir, "*.hnsw")):
        head = np.fromfile(path, dtype=np.uint64, count=6)
        count, per_element, label_offset, offset_data = (int(v) for v in head[2:6])
        parts["vectors"] += count * (label_offset - offset_data)
        parts["level0 links + label"] += count * (per_element - (label_offset - offset_data))
        parts["upper links"] += os.path.getsize(path) - HNSW_HEADER - count * per_element - 4 * count
        parts["slots file"] += os.path.getsize(path[: -len(".hnsw")] + ".slots")
    return parts


def postgres_bytes(dim, data, ids, crops, n_crops):
    """Bytes per face in facekit's own PostgreSQL tables (a throw-away cluster, registered through
    facekit): facekit_features, facekit_crops, facekit_changes (rows + TOAST + indexes)."""
    if postgres.missing():
        return None
    ids = ids[:len(data)]
    with postgres.Postgres() as pg:
        reg = facekit._facekit.NativeRegistry(pg.url, dim, MODEL_ID)
        for start in range(0, len(data), CHUNK):
            reg.put_many("g", ids[start:start + CHUNK], data[start:start + CHUNK])
        for i in range(n_crops):
            jpeg, marks = crops[i % len(crops)]
            reg.put("c", ids[i], data[i % len(data)], [facekit.FaceCrop(jpeg, marks)])
        del reg
        pg.psql("VACUUM ANALYZE")
        sizes = pg.psql("SELECT pg_total_relation_size('facekit_features') || ',' || "
                        "pg_total_relation_size('facekit_crops') || ',' || pg_total_relation_size('facekit_changes') "
                        "|| ',' || (SELECT count(*) FROM facekit_changes) || ',' || current_setting('server_version')")
        features, crop_bytes, changes, change_rows, version = sizes.split(",")
        rows = len(data) + n_crops
        return {"features": int(features) / rows, "crops": int(crop_bytes) / n_crops,
                "changes": int(changes) / int(change_rows), "version": version.split()[0],
                "faces": rows, "crop_faces": n_crops}


def sqlite_bytes(path):
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def memory(kind, checkpoints, args, crops, work):
    work = tempfile.mkdtemp(prefix=f"memory-{kind}-", dir=work)
    try:
        return measure_memory(kind, checkpoints, args, crops, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure_memory(kind, checkpoints, args, crops, work):
    dim = DESCRIPTORS[kind]
    n = max(checkpoints)
    _, data = face_like_vectors(kind, n)
    ids = face_ids(n)
    path = os.path.join(work, f"memory-{kind}.db")
    rss0 = rss_bytes()
    reg = facekit._facekit.NativeRegistry(path, dim, MODEL_ID, hnsw_m=args.m, insert_threads=args.insert_threads)
    rows, t0 = [], time.time()
    for start in tqdm(range(0, n, CHUNK), desc=f"memory, {kind} ({dim}-d)", unit="chunk", file=sys.stderr):
        reg.put_many("g", ids[start:start + CHUNK], data[start:start + CHUNK])
        done = min(n, start + CHUNK)
        if done in checkpoints:
            rows.append((done, rss_bytes() - rss0))
    build = time.time() - t0
    reg.save_snapshot()
    del reg
    parts = snapshot_parts(path + ".index")
    db = sqlite_bytes(path)
    # Kept crops: the same faces once more, each registered with one real crop, against none.
    m = min(args.crop_faces, n)
    with_crops, without = os.path.join(work, f"crops-{kind}.db"), os.path.join(work, f"nocrops-{kind}.db")
    reg = facekit._facekit.NativeRegistry(with_crops, dim, MODEL_ID, hnsw_m=args.m)
    for i in tqdm(range(m), desc=f"kept crops, {kind}", unit="face", file=sys.stderr):
        jpeg, marks = crops[i % len(crops)]
        reg.put("g", ids[i], data[i], [facekit.FaceCrop(jpeg, marks)])
    del reg
    reg = facekit._facekit.NativeRegistry(without, dim, MODEL_ID, hnsw_m=args.m)
    reg.put_many("g", ids[:m], data[:m])
    del reg
    crop_jpeg = [len(crops[i % len(crops)][0]) for i in range(m)]
    pg = postgres_bytes(dim, data[:args.postgres_faces], ids, crops, m) if args.postgres_faces else None
    return {"kind": kind, "dim": dim, "rows": rows, "build": build, "n": n, "parts": parts, "sqlite": db,
            "crop_faces": m, "with_crops": sqlite_bytes(with_crops), "without_crops": sqlite_bytes(without),
            "crop_jpeg": crop_jpeg, "postgres": pg}


def report_memory(results, facts, args):
    print("## Memory per face (index in the server's RSS)\n")
    print(f"M {args.m}, file-backed registry (SQLite's page cache is bounded), face-like vectors, "
          f"RSS after malloc_trim, growth from the empty registry.\n")
    print("| descriptor | faces | RSS growth | per face |\n|---|---|---|---|")
    for r in results:
        for n, grown in r["rows"]:
            print(f"| {r['kind']} ({r['dim']}-d) | {n:,} | {grown / 2**20:,.0f} MiB | {grown / n:,.0f} B |")
        if len(r["rows"]) > 1:
            (n0, g0), (n1, g1) = r["rows"][-2], r["rows"][-1]
            print(f"| {r['kind']} ({r['dim']}-d) | slope {n0:,} to {n1:,} | | {(g1 - g0) / (n1 - n0):,.0f} B |")
    print("\nWhere it goes, per face at the largest size (vectors and links from the snapshot: "
          "hnswlib's layout, exact bytes; the rest = RSS per face minus those):\n")
    print("| descriptor | faces | vector block (scale + int8 + half floats) | level-0 links + label | "
          "upper-level links | rest: face_id maps, per-slot lock + level, allocator | RSS per face |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        n, grown = r["rows"][-1]
        p = r["parts"]
        rest = grown - p["vectors"] - p["level0 links + label"] - p["upper links"]
        print(f"| {r['kind']} ({r['dim']}-d) | {n:,} | {p['vectors'] / n:,.0f} B "
              f"| {p['level0 links + label'] / n:,.0f} B | {p['upper links'] / n:,.1f} B | {rest / n:,.0f} B "
              f"| {grown / n:,.0f} B |")
    print(f"\n| descriptor | build ({args.insert_threads or os.cpu_count()} insert threads, SQLite on) "
          "| snapshot per face (.hnsw + .slots) | SQLite per face, no crops | SQLite per face, one kept crop "
          "| mean crop JPEG (min-max) |\n|---|---|---|---|---|---|")
    for r in results:
        p, n, m = r["parts"], r["n"], r["crop_faces"]
        snap = p["vectors"] + p["level0 links + label"] + p["upper links"] + HNSW_HEADER + 4 * n + p["slots file"]
        print(f"| {r['kind']} ({r['dim']}-d) | {r['build']:.1f} s ({n / r['build']:,.0f} rows/s) | {snap / n:,.0f} B "
              f"| {r['sqlite'] / n:,.0f} B ({n:,} faces); {r['without_crops'] / m:,.0f} B ({m:,}) "
              f"| {r['with_crops'] / m:,.0f} B ({m:,}) | {statistics.mean(r['crop_jpeg']) / 1000:.1f} KB "
              f"({min(r['crop_jpeg']) / 1000:.1f}-{max(r['crop_jpeg']) / 1000:.1f}) |")
    pgs = [r["postgres"] for r in results if r["postgres"]]
    if pgs:
        print(f"\nPostgreSQL {pgs[0]['version']} (tests/conformance/postgres.py's throw-away cluster), the same "
              f"faces registered through facekit (put_many in chunks of {CHUNK:,}; put with one kept crop), "
              f"then VACUUM ANALYZE; pg_total_relation_size (rows + TOAST + indexes):\n")
        print("| descriptor | feature bytes | facekit_features per face | + facekit_crops per kept crop "
              "| facekit_changes per logged change |\n|---|---|---|---|---|")
        for r in results:
            pg = r["postgres"]
            if pg:
                print(f"| {r['kind']} ({r['dim']}-d) | {4 * r['dim']:,} B "
                      f"| {pg['features']:,.0f} B ({pg['faces']:,} faces) "
                      f"| {pg['crops']:,.0f} B ({pg['crop_faces']:,}) | {pg['changes']:,.0f} B |")
    print("\nFaces that fit one server: (memory - reserved) / RSS per face at the largest size; reserved = "
          "the RSS of a process holding a warm Engine (Python, LibTorch, the models: measured here, in a child "
          "process) + --reserve-gib. A full reload of a shared group builds the new index beside the old one "
          "(registry.cpp, sync_group), so a group that must reload while it serves fits half as many:\n")
    print("| descriptor | Engine's RSS (its process) | server memory | reserved | faces in one group "
          "| ... with room for its full reload |\n|---|---|---|---|---|---|")
    for r in results:
        n, grown = r["rows"][-1]
        f = facts[r["kind"]]
        for machine in args.machine_gib:
            reserved = f["process_rss"] + args.reserve_gib * GIB
            fit = (machine * GIB - reserved) / (grown / n)
            print(f"| {r['kind']} ({r['dim']}-d) "
                  f"| {f['models_rss'] / 2**20:,.0f} MiB ({f['process_rss'] / 2**20:,.0f} MiB) | {machine} GiB "
                  f"| {reserved / GIB:.2f} GiB | {fit / 1e6:.2f} M | {fit / 2e6:.2f} M |")
    print()


# ---- b: one group in shards ----

def hrw(key, node):
    """Rendezvous weight of `key` on `node`: 64 bits of BLAKE2b over both."""
    return int.from_bytes(hashlib.blake2b(f"{key}\0{node}".encode(), digest_size=8).digest(), "big")


def rendezvous(key, nodes):
    """The node of `key`: the highest weight (a node's departure moves only its own keys)."""
    return max(nodes, key=lambda node: hrw(key, node))


def ranking(key, nodes):
    return sorted(nodes, key=lambda node: hrw(key, node), reverse=True)


LATENCIES = ("one server, whole group", "fan-out, every shard on its own core",
             "fan-out, servers in parallel, each searching its shards in turn", "fan-out, every shard on one core")


def search_one(reg, q, k):
    t = time.perf_counter()
    hits = reg.search("g", q, k)
    return hits, (time.perf_counter() - t,)


def search_fan_out(regs, holds, q, k):
    """Every shard's top k, merged by cosine: hits, and the fan-out's latency three ways (each
    shard on its own core, each server on its own machine, everything on one core)."""
    hits, per_shard, per_server = [], [], []
    for server, names in holds.items():
        for name in names:
            t = time.perf_counter()
            hits += regs[server].search(name, q, k)
            per_shard.append(time.perf_counter() - t)
        per_server.append(sum(per_shard[-len(names):]))
    t = time.perf_counter()
    merged = heapq.nlargest(k, hits, key=lambda h: h.cosine)  # a face_id lives in one shard only
    merge = time.perf_counter() - t
    return merged, (max(per_shard) + merge, max(per_server) + merge, sum(per_shard) + merge)


def shards(args, work):
    kind, dim, n, k = args.shard_descriptor, DESCRIPTORS[args.shard_descriptor], args.faces, 10
    gen, data = face_like_vectors(kind, n, seed=1)
    rng = np.random.default_rng(1)
    source = rng.choice(n, args.queries, replace=False)
    queries = gen.other_photos(data[source])
    sims = data @ queries.T  # exact cosines, faces x queries
    top = np.argpartition(-sims, k, axis=0)[:k].T
    truth = np.take_along_axis(top, np.argsort(-np.take_along_axis(sims.T, top, axis=1), axis=1), axis=1)
    del sims
    ids = face_ids(n)
    shard_names = [f"g#{s}" for s in range(args.shards)]
    shard_of = np.array([shard_names.index(rendezvous(i, shard_names)) for i in
                         tqdm(ids, desc="rendezvous face_id -> shard", unit="face", file=sys.stderr, mininterval=1)])
    servers = [f"server-{i + 1}" for i in range(args.servers)]
    # Shard j of a group goes to the (j mod n)-th server of the group's own rendezvous ranking:
    # its shards spread over distinct servers, and the group keeps its place when others come and go.
    order = ranking("g", servers)
    holds = {s: [name for j, name in enumerate(shard_names) if order[j % len(servers)] == s] for s in servers}

    t0 = time.time()
    single_path = os.path.join(work, "single.db")
    reg = facekit._facekit.NativeRegistry(single_path, dim, MODEL_ID, hnsw_m=args.m, insert_threads=args.insert_threads)
    for start in tqdm(range(0, n, CHUNK), desc="one server, whole group", unit="chunk", file=sys.stderr):
        reg.put_many("g", ids[start:start + CHUNK], data[start:start + CHUNK])
    reg.save_snapshot()
    del reg
    build_single = time.time() - t0
    build_server = {}
    for s in servers:
        t0 = time.time()
        reg = facekit._facekit.NativeRegistry(os.path.join(work, s + ".db"), dim, MODEL_ID, hnsw_m=args.m,
                                              insert_threads=args.insert_threads)
        for name in holds[s]:
            rows = np.flatnonzero(shard_of == shard_names.index(name))
            for start in tqdm(range(0, len(rows), CHUNK), desc=f"{s}, {name}", unit="chunk", file=sys.stderr):
                part = rows[start:start + CHUNK]
                reg.put_many(name, [ids[i] for i in part], data[part])
        reg.save_snapshot()
        del reg
        build_server[s] = time.time() - t0

    row_of = {face_id: i for i, face_id in enumerate(ids)}
    results = []
    for ef in args.ef:
        single = facekit._facekit.NativeRegistry(single_path, dim, MODEL_ID, hnsw_m=args.m, hnsw_ef_search=ef)
        regs = {s: facekit._facekit.NativeRegistry(os.path.join(work, s + ".db"), dim, MODEL_ID, hnsw_m=args.m,
                                                   hnsw_ef_search=ef) for s in servers}
        # Each query's fastest of --repeats tries: other processes on the machine add preemptions, not
        # search work. The two sides alternate which goes first.
        timing = np.full((len(LATENCIES), len(queries)), np.inf)
        found_single, found_merged = [], []
        for q in tqdm(queries, desc=f"ef {ef}, warm-up and results", unit="query", file=sys.stderr):
            found_single.append([row_of[h.face_id] for h in search_one(single, q, k)[0]])
            found_merged.append([row_of[h.face_id] for h in search_fan_out(regs, holds, q, k)[0]])
        for rep in tqdm(range(args.repeats), desc=f"ef {ef}, timed", unit="pass", file=sys.stderr):
            for qi, q in enumerate(queries):
                if (qi + rep) % 2:
                    one, fan = search_one(single, q, k)[1], search_fan_out(regs, holds, q, k)[1]
                else:
                    fan, one = search_fan_out(regs, holds, q, k)[1], search_one(single, q, k)[1]
                timing[:, qi] = np.minimum(timing[:, qi], np.array(one + fan) * 1000)
        del single, regs
        results.append((ef, found_single, found_merged, timing))
    return {"kind": kind, "dim": dim, "n": n, "holds": holds, "sizes": np.bincount(shard_of, minlength=args.shards),
            "shard_names": shard_names, "build_single": build_single, "build_server": build_server,
            "truth": truth, "source": source, "results": results, "k": k}


def recall_at(found, truth, k):
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)]))


def report_shards(r, args):
    print(f"## One group of {r['n']:,} faces in {len(r['shard_names'])} shards on {len(r['holds'])} servers\n")
    print(f"{r['kind']} descriptor ({r['dim']}-d) face-like vectors, M {args.m}, {args.queries} queries (another "
          f"\"photo\" of a registered face), top {r['k']}; ground truth: exact cosine over all faces (numpy). "
          f"The exact nearest face is the query's own for {np.mean(r['truth'][:, 0] == r['source']):.3f} of them.\n")
    print("| server | shards (faces) | build |\n|---|---|---|")
    print(f"| one server, whole group | g ({r['n']:,}) | {r['build_single']:.1f} s |")
    for s, names in r["holds"].items():
        sizes = ", ".join(f"{name} ({r['sizes'][r['shard_names'].index(name)]:,})" for name in names)
        print(f"| {s} | {sizes} | {r['build_server'][s]:.1f} s |")
    print("\n| ef_search | search | recall@1 | recall@10 | median ms | p99 ms | median vs one server |")
    print("|---|---|---|---|---|---|---|")
    for ef, found_single, found_merged, timing in r["results"]:
        base = float(np.median(timing[0]))
        for name, found, ms in zip(LATENCIES, (found_single,) + (found_merged,) * 3, timing):
            print(f"| {ef} | {name} | {recall_at(found, r['truth'], 1):.3f} | {recall_at(found, r['truth'], 10):.3f} "
                  f"| {np.median(ms):.3f} | {np.percentile(ms, 99):.3f} | {np.median(ms) / base:.2f}x |")
    print(f"\n(Latency: each query's fastest of {args.repeats} tries, single-thread searches through the Python "
          "binding, no network. Fan-out: the slowest shard plus the merge (\"its own core\"), the slowest server's "
          "shards one after the other plus the merge (\"servers in parallel\"), or all of them plus the merge "
          "(\"one core\", i.e. the CPU the fan-out costs).)\n")


# ---- c: placement of groups on servers ----

def placement(args):
    groups = [f"group-{i}" for i in range(args.groups)]

    def modulo(g, nodes):
        return nodes[hrw(g, "") % len(nodes)]

    print(f"## Placing {args.groups:,} groups on a table of live servers\n")
    print("Share of groups that move to another server; the least possible is 1/(n+1) on a join "
          "(the newcomer's fair share) and 1/n on a leave (the leaver's groups).\n")
    print("| servers n | join: rendezvous | join: modulo | 1/(n+1) | leave: rendezvous | leave: modulo | 1/n "
          "| rendezvous: most groups on one server / mean |\n|---|---|---|---|---|---|---|---|")
    for n in tqdm(args.placement_servers, desc="placement", unit="table", file=sys.stderr):
        nodes = [f"server-{i + 1}" for i in range(n)]
        joined, left = nodes + [f"server-{n + 1}"], nodes[: n // 2] + nodes[n // 2 + 1:]
        moved = {}
        for name, place in (("rendezvous", rendezvous), ("modulo", modulo)):
            before = [place(g, nodes) for g in groups]
            moved[name, "join"] = np.mean([b != place(g, joined) for g, b in zip(groups, before)])
            moved[name, "leave"] = np.mean([b != place(g, left) for g, b in zip(groups, before)])
            if name == "rendezvous":
                load = max(before.count(node) for node in nodes) / (len(groups) / n)
        print(f"| {n} | {moved['rendezvous', 'join']:.3f} | {moved['modulo', 'join']:.3f} | {1 / (n + 1):.3f} "
              f"| {moved['rendezvous', 'leave']:.3f} | {moved['modulo', 'leave']:.3f} | {1 / n:.3f} | {load:.2f} |")
    print()


def main():
    ints = lambda s: [int(v) for v in s.split(",")]  # noqa: E731
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="memory,shards,placement", help="which parts to run")
    ap.add_argument("--memory-faces", type=ints, default=[20000, 40000], help="RSS measured at these counts")
    ap.add_argument("--descriptors", default="accurate,fast", help="memory part: descriptors to measure")
    ap.add_argument("--crop-faces", type=int, default=1000, help="faces registered with a kept crop")
    ap.add_argument("--crop-photos", type=int, default=48, help="real photos the kept crops come from")
    ap.add_argument("--postgres-faces", type=int, default=5000,
                    help="faces registered in a throw-away PostgreSQL to size its rows (0: skip; needs PostgreSQL 15)")
    ap.add_argument("--machine-gib", type=ints, default=[24], help="server memory to fit a group in")
    ap.add_argument("--reserve-gib", type=float, default=1.0,
                    help="kept free beside the models: requests' peaks, the OS, a rebuild's slack")
    ap.add_argument("--faces", type=int, default=40000, help="shards part: faces in the group")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--servers", type=int, default=2)
    ap.add_argument("--shard-descriptor", choices=DESCRIPTORS, default="accurate")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5, help="timed passes over the queries (fastest kept)")
    ap.add_argument("--ef", type=ints, default=[16, 64], help="hnsw_ef_search values (the server's default: 64)")
    ap.add_argument("--m", type=int, default=16, help="hnsw_m (the server's default: 16)")
    ap.add_argument("--insert-threads", type=int, default=0, help="0: one per core")
    ap.add_argument("--groups", type=int, default=10000, help="placement part: groups placed")
    ap.add_argument("--placement-servers", type=ints, default=[2, 3, 4, 8, 16])
    args = ap.parse_args()
    if any(n % CHUNK for n in args.memory_faces):
        ap.error(f"--memory-faces: multiples of {CHUNK}")
    parts = args.only.split(",")
    kinds = args.descriptors.split(",") if "memory" in parts else []
    if "shards" in parts and args.shard_descriptor not in kinds:
        kinds.append(args.shard_descriptor)
    print(f"# facekit registry past one machine: `{' '.join(sys.argv[1:]) or 'defaults'}`, {os.cpu_count()} cores\n",
          flush=True)
    facts = {}
    for kind in tqdm(kinds, desc="engines: real descriptors, models' RSS, crops", unit="descriptor", file=sys.stderr):
        facts[kind] = engine_facts(kind, args.crop_photos)
        assert facts[kind]["dim"] == DESCRIPTORS[kind], facts[kind]["dim"]
    work = tempfile.mkdtemp(prefix="facekit-shards-")
    try:
        if "memory" in parts:
            results = [memory(kind, set(args.memory_faces), args, facts[kind]["crops"], work)
                       for kind in args.descriptors.split(",")]
            report_memory(results, facts, args)
            sys.stdout.flush()
        if "shards" in parts:
            report_shards(shards(args, work), args)
            sys.stdout.flush()
        if "placement" in parts:
            placement(args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
