"""Start-up of a facekit_server over a big PostgreSQL registry (issue 15 item 7): one group of N
face-like features (default 1,000,000) loaded straight into PostgreSQL with COPY, in the format
the server itself writes, then a real server started over it three ways:

  (a) no snapshot: an empty snapshot_dir, so the server reads every feature from PostgreSQL and
      builds the group's HNSW index (the server's defaults: M 16, ef_construction 200);
  (b) fresh snapshot: the snapshot (a) wrote (at its periodic snapshot_interval_s or at shutdown),
      which holds the group's current version: nothing to replay;
  (c) snapshot + change-log tail: --tail registrations (real photos through the descriptor model,
      --tail-batch persons a request) made through another server (started from a copy of that
      snapshot) while this one was stopped; this one then replays the log's tail at start.

For each: seconds from starting the process until it answers a request (interface 12), the
registry's own opening time from the server's log, seconds until it answers a search with
min_version = the newest version, and the server's peak RSS (VmHWM). Also the database size
and the load average (/proc/loadavg) at the start and end of each phase. Each phase is checked:
interface 12 counts, a feature search with stored features finds their face_ids (top hit), and
interface 3 finds them in the index.

The rows written by COPY: facekit_features(row_id 1..N, group 'big', face_id '0'..'N-1', the
L2-normalised float32 feature as host-order bytes, created_ms increasing), facekit_groups('big',
version N, people N), facekit_changes for the last change_log_keep versions (face i registered
at version i + 1, as N one-person registrations leave it), the row_id sequence moved past N. No
face crops (keep_face_crops rows are optional and not read at start; a real registry with them
is ~20 KB a face bigger). The schema and the model id come from a server started once on the
empty database. Then VACUUM ANALYZE and CHECKPOINT, so the first start does not pay for hint bits.

usage: python bench/registry/pg_million.py [--faces 1000000] [--tail 10000] [--keep DIR]
           [--tail-batch 10] [--tail-clients 2] [--shared-buffers 256MB] [--descriptor accurate]
           [--idle-b 0]

A throw-away PostgreSQL 15 (tests/conformance/postgres.py, fsync on, unix socket) and real
facekit_server processes (bench/registry/scaleout.py's Node: pool_size 2, rate limits off, log
level info). --keep DIR keeps the servers' folders (logs, snapshots) in DIR and leaves the
PostgreSQL cluster stopped in its temp folder (its path is printed) instead of deleting them.
"""
import argparse
import os
import platform
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import face_like  # noqa: E402
import scaleout  # noqa: E402,F401  (puts tests/conformance on sys.path)
from scaleout import Node, Photos, checked, print_logs, print_table, register_load, total_faces, wait_applied  # noqa: E402
import postgres  # noqa: E402

GROUP = "big"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class BigNode(Node):
    """scaleout's Node with a start-up limit of hours, a progress line while it starts, and a shutdown that
    waits for a big snapshot to be written."""

    start_limit_s = 6 * 3600

    def shutdown(self, wait_s=1800):
        """SIGINT and wait (it writes its snapshot first); seconds it took."""
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(wait_s)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            self.log.close()
        return time.perf_counter() - t0

    def peak_rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


# -- loading the registry with COPY

def copy_in(pg, sql, chunks):
    """Streams the byte chunks into psql running `sql` (a COPY ... FROM STDIN)."""
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([os.path.join(postgres.PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                              "-d", pg.url, "-c", sql], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        try:
            for c in chunks:
                p.stdin.write(c)
        except BrokenPipeError:
            pass
        finally:
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
        p.wait()
        err.seek(0)
        if p.returncode != 0:
            raise RuntimeError(f"{sql}: psql exited {p.returncode}: {err.read().decode(errors='replace')}")


def feature_rows(gen, faces, chunk, keep_ids, kept, t_base):
    """Binary COPY data for facekit_features(row_id, group_id, face_id, feature, created_ms), a chunk of
    faces at a time; the features of keep_ids go into `kept` (face_id -> vector)."""
    yield b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
    group = GROUP.encode()
    head = struct.pack(">hiq", 5, 8, 0)[:6]  # field count, then the row_id field's length
    gfield = struct.pack(">i", len(group)) + group
    t0, done = time.perf_counter(), 0
    for start in range(0, faces, chunk):
        n = min(chunk, faces - start)
        x = gen.faces(n)  # L2-normalised float32
        nbytes = struct.pack(">i", x.shape[1] * 4)
        parts = []
        for k in range(n):
            i = start + k
            fid = str(i).encode()
            parts.append(head + struct.pack(">q", i + 1) + gfield + struct.pack(">i", len(fid)) + fid + nbytes +
                         x[k].tobytes() + struct.pack(">iq", 8, t_base + i))
        for i in keep_ids[(keep_ids >= start) & (keep_ids < start + n)]:
            kept[str(int(i))] = x[int(i) - start].copy()
        yield b"".join(parts)
        done += n
        if done % 100000 < chunk or done == faces:
            print(f"  COPY: {done} rows ({done / (time.perf_counter() - t0):.0f} rows/s, load {loadavg()})",
                  flush=True)
    yield struct.pack(">h", -1)


def load_registry(pg, gen, faces, keep, keep_ids):
    """The rows a server would have written for `faces` one-person registrations into GROUP; returns the
    features of keep_ids."""
    kept = {}
    t_base = int(time.time() * 1000) - faces
    copy_in(pg, "COPY facekit_features(row_id, group_id, face_id, feature, created_ms) FROM STDIN (FORMAT binary)",
            feature_rows(gen, faces, 20000, keep_ids, kept, t_base))
    # The change log a server leaves: version v (1..faces) registered face v-1; the last `keep` versions kept.
    first = max(1, faces - keep + 1)

    def changes():
        for s in range(first, faces + 1, 100000):
            yield "".join(f"{GROUP}\t{v}\t{v - 1}\t{t_base + v - 1}\n"
                          for v in range(s, min(faces, s + 99999) + 1)).encode()

    copy_in(pg, "COPY facekit_changes(group_id, version, face_id, at_ms) FROM STDIN", changes())
    pg.psql(f"INSERT INTO facekit_groups(group_id, version, people) VALUES('{GROUP}', {faces}, {faces})")
    pg.psql(f"SELECT setval('facekit_features_row_id_seq', {faces})")
    pg.psql("VACUUM ANALYZE")
    pg.psql("CHECKPOINT")
    return kept


def db_mb(pg):
    return int(pg.psql("SELECT pg_database_size(current_database())")) / 1e6


def rows_read(pg):
    """Index scans on facekit_features: PostgreSQL 15 counts one per element of the `row_id = ANY(...)` arrays
    the registry reads features with (4096 rows a transaction), so this follows the rows read (+1 for the
    key scan at the start)."""
    return int(pg.psql("SELECT idx_scan FROM pg_stat_user_tables WHERE relname = 'facekit_features'"))


# -- checks

def verify(node, kept, faces_expected, label):
    """interface 12 counts, top hit of a search by each kept stored feature, interface 3; raises when the faces are
    not there (an interface 3 miss, or most searches missing)."""
    n = total_faces(node)
    g = checked(node.request({"interface": "12", "api_key": "bench", "group_id": GROUP}), "1301")["reg_nums"]
    if n != faces_expected or g != faces_expected:
        raise RuntimeError(f"{label}: interface 12 counts {n} (group {g}), expected {faces_expected}")
    wrong = []
    for fid, f in kept.items():
        r = node.request({"interface": "1", "api_key": "bench", "group_id": GROUP, "score": 0, "topk": 1,
                          "field": "feature", "feature": [float(v) for v in f]})
        if r["error_message"] != "201" or str(r["face_id"][0]) != fid:
            wrong.append((fid, r.get("face_id"), r.get("score")))
        q = node.request({"interface": "3", "api_key": "bench", "group_id": GROUP, "face_id": fid})
        if q["error_message"] != "401":
            wrong.append((fid, "interface 3", q["error_message"]))
    missed = [w for w in wrong if w[1] != "interface 3"]
    if len(wrong) > len(missed) or len(missed) > len(kept) // 2:
        # interface 3 reads the index's face list: a miss there, or most searches missing, is not HNSW's recall
        raise RuntimeError(f"{label}: stored faces not found: {wrong[:5]}")
    return (f"{n} faces, {len(kept) - len(missed)}/{len(kept)} stored features found as top hit (HNSW is approximate)"
            + (f"; missed (face_id, top hit, score): {missed}" if missed else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=1_000_000, help="faces (one feature each) loaded with COPY")
    ap.add_argument("--tail", type=int, default=10000, help="registrations through another server for way (c)")
    ap.add_argument("--tail-batch", type=int, default=10, help="persons per registration request")
    ap.add_argument("--tail-clients", type=int, default=2)
    ap.add_argument("--variants", type=int, default=8, help="brightness variants of each photo for the tail")
    ap.add_argument("--descriptor", default="accurate", choices=("accurate", "fast"),
                    help="the server's descriptor (its default: accurate, 1152-d)")
    ap.add_argument("--shared-buffers", default="256MB")
    ap.add_argument("--checks", type=int, default=20, help="stored features searched for after each start")
    ap.add_argument("--idle-b", type=float, default=0,
                    help="seconds (b) stays up, unchanged, before it stops (to see whether it rewrites its snapshot)")
    ap.add_argument("--keep", metavar="DIR", help="keep the servers' folders in DIR (and the stopped cluster)")
    args = ap.parse_args()
    command = "python bench/registry/pg_million.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    reason = postgres.missing()
    if reason:
        raise SystemExit(reason)
    t_all = time.perf_counter()
    loads = []  # (phase, load at start, load at end)

    def phase(name):
        print(f"[{time.strftime('%H:%M:%S')}] {name} (load {loadavg()})", flush=True)
        loads.append([name, loadavg(), None])

    def phase_end():
        loads[-1][2] = loadavg()

    cache = os.path.join(os.environ.get("FACEKIT_CACHE", tempfile.gettempdir()), "bench")
    gen = face_like.FaceLike(*face_like.real_descriptors(cache, descriptor=args.descriptor), seed=1)
    pg = postgres.Postgres(shared_buffers=args.shared_buffers, max_connections=100)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        work = args.keep
    else:
        work = tempfile.mkdtemp(prefix="facekit-pgmillion-")
    extra = {"registry_url": pg.url, "register_factor": 0, "max_requests": 0, "log_level": "info",
             "descriptor": args.descriptor}
    snap_a, snap_w = os.path.join(work, "snapshots-c"), os.path.join(work, "snapshots-w")
    nodes, rows, notes = [], [], []
    try:
        phase("schema: a server started once on the empty database")
        d = os.path.join(work, "server-c")
        os.makedirs(d, exist_ok=True)
        c = BigNode(d, snapshot_dir=snap_a, **extra)
        nodes.append(c)
        c.shutdown()
        shutil.rmtree(snap_a, ignore_errors=True)
        model = pg.psql("SELECT value FROM facekit_meta WHERE key = 'feature_model'")
        keep_log = int(c.cfg("change_log_keep") or 100000)
        phase_end()

        phase(f"COPY {args.faces} faces ({gen.dim}-d face-like features, model '{model}')")
        rng = np.random.default_rng(7)
        keep_ids = np.sort(rng.choice(args.faces, min(args.checks, args.faces), replace=False))
        t0 = time.perf_counter()
        kept = load_registry(pg, gen, args.faces, keep_log, keep_ids)
        load_s = time.perf_counter() - t0
        size_mb = db_mb(pg)
        features_mb = int(pg.psql("SELECT pg_total_relation_size('facekit_features')")) / 1e6
        print(f"  loaded in {load_s:.0f} s ({args.faces / load_s:.0f} rows/s incl. VACUUM ANALYZE + CHECKPOINT); "
              f"database {size_mb:.0f} MB (facekit_features with TOAST and indexes {features_mb:.0f} MB)", flush=True)
        phase_end()
        probe = next(iter(kept.values())).tolist()

        def measure(way, node, faces, newest):
            answered = node.started_s
            applied = answered + wait_applied(node, GROUP, newest, probe, timeout=3600)
            opened, how = node.registry_opened()
            check = verify(node, kept, faces, way)
            peak = node.peak_rss_mb()
            rows.append((way, faces, f"{answered:.1f}", f"{opened:.1f}" if opened is not None else "-",
                         f"{applied:.1f}", f"{peak:.0f}"))
            print(f"  {way}: answers after {answered:.1f} s, registry opened in {opened} s ({how}), newest version "
                  f"applied after {applied:.1f} s, peak RSS {peak:.0f} MB; {check}", flush=True)

        # (a) nothing in the snapshot folder: a whole read and an HNSW build.
        phase("(a) start with no snapshot (empty snapshot_dir)")
        base = rows_read(pg)

        def progress(waited):
            done = max(0, rows_read(pg) - base - 1)  # statistics lag by up to a second or so
            print(f"  {waited / 60:.0f} min: ~{done} rows read from PostgreSQL and indexed (~{done / waited:.0f} "
                  f"rows/s), server RSS {c_node.rss_mb():.0f} MB, load {loadavg()}", flush=True)

        c.set_config(snapshot_dir=snap_a)
        BigNode.on_wait = staticmethod(progress)
        c_node = c
        c.start()
        BigNode.on_wait = None
        measure("(a) no snapshot: read all + HNSW build", c, args.faces, args.faces)
        down = c.shutdown()
        files = sorted(os.listdir(snap_a)) if os.path.isdir(snap_a) else []
        notes.append(f"(a) stopped in {down:.1f} s (snapshot written at its first snapshot_interval_s or at "
                     f"shutdown); snapshot folder: {files}, "
                     f"{sum(os.path.getsize(os.path.join(snap_a, f)) for f in files) / 1e6:.0f} MB")
        if not any(f.endswith(".version") for f in files):
            raise RuntimeError(f"no snapshot written by (a): {files}\n{c.log_tail()}")
        phase_end()

        phase("(b) start from the fresh snapshot")
        t_start = time.time()
        c.start()
        measure("(b) fresh snapshot", c, args.faces, args.faces)
        if args.idle_b:
            time.sleep(args.idle_b)  # snapshot_interval_s passes with nothing changed
        rewritten = [f for f in os.listdir(snap_a) if os.path.getmtime(os.path.join(snap_a, f)) > t_start]
        down = c.shutdown()
        notes.append(f"(b) ran {time.time() - t_start - down:.0f} s with no change; snapshot files rewritten while "
                     f"it ran: {rewritten or 'none'}; stopped in {down:.1f} s")
        phase_end()

        newest, faces = args.faces, args.faces
        if args.tail > 0:
            phase(f"(c) {args.tail} registrations through another server while this one is stopped")
            shutil.rmtree(snap_w, ignore_errors=True)
            shutil.copytree(snap_a, snap_w)
            dw = os.path.join(work, "server-w")
            os.makedirs(dw, exist_ok=True)
            # Its first registration grows the group's index, mapped from the snapshot at exactly its size:
            # the whole vector block is copied to the heap first (~30 s at a million faces on 2 busy cores),
            # past the default 15 s request deadline.
            w = BigNode(dw, snapshot_dir=snap_w, request_timeout_ms=120000, **extra)
            nodes.append(w)
            notes.append(f"writer server (from a copy of the fresh snapshot) answered after {w.started_s:.1f} s")
            photos = Photos(w, args.variants)
            secs, lat, newest = register_load([w], GROUP, photos, args.faces, args.tail, args.tail_clients,
                                              args.tail_batch)
            faces = args.faces + args.tail
            notes.append(f"tail: {args.tail} registrations in {secs:.0f} s ({args.tail / secs:.1f}/s, per request "
                         f"p50 {np.percentile(lat, 50):.0f} ms, max {max(lat):.0f} ms; "
                         f"{args.tail_batch} persons a request, {args.tail_clients} client threads, "
                         f"{len(photos)} distinct photos), group version now {newest}")
            w.shutdown()
            phase_end()
            phase("(c) start from the snapshot + the change log's tail")
            c.start()
            measure(f"(c) snapshot + log tail of {args.tail} changes", c, faces, newest)
            down = c.shutdown()
            notes.append(f"(c) stopped in {down:.1f} s")
            phase_end()
        size_end = db_mb(pg)
    except BaseException:
        print_logs(nodes, pg)
        raise
    finally:
        for n in nodes:
            if n.proc.poll() is None:
                n.proc.send_signal(signal.SIGCONT)
                n.shutdown()
            n.ctx.destroy(linger=0)
        if args.keep:
            pg.stop()
            print(f"kept: servers' folders in {work}; the stopped PostgreSQL cluster in {pg.dir}")
        else:
            pg.cleanup()
            shutil.rmtree(work, ignore_errors=True)

    print(f"\n`{command}`  ({(time.perf_counter() - t_all) / 60:.0f} min in all)\n")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; PostgreSQL 15 (fsync on, "
          f"shared_buffers {args.shared_buffers}) on a unix socket; facekit_server pool_size 2, descriptor "
          f"{args.descriptor} ({gen.dim}-d), server defaults otherwise (HNSW M 16, ef_construction 200). "
          f"{args.faces} face-like features in one group loaded with COPY in {load_s:.0f} s.\n")
    print_table(["way", "faces", "answering after s", "registry opened in s (server log)",
                 "newest version applied after s", "server peak RSS MB"], rows)
    print(f"\nDatabase: {size_mb:.0f} MB after the COPY, {size_end:.0f} MB at the end (no face crops for the "
          f"COPY'd faces; the tail's registrations keep theirs).")
    for n in notes:
        print(f"- {n}")
    print("\n| phase | load at start | load at end |\n|---|---|---|")
    for name, a, b in loads:
        print(f"| {name} | {a} | {b} |")


if __name__ == "__main__":
    main()
