"""Scale-out on one PostgreSQL registry (issue 15 item 7): throughput with 1 and 3 servers,
propagation delay between servers, catch-up after missed changes, start-up over a big registry.

usage: python bench/registry/scaleout.py [--quick] [--reg-count 400] [--reg-clients 4]
           [--search-seconds 10] [--search-clients 4] [--prop-samples 200] [--catchup 10000]
           [--catchup-modes restart,pause] [--startup-sizes 20000,30000,40000]

A throw-away PostgreSQL 15 (tests/conformance/postgres.py, fsync on) and real facekit_server
processes (pool_size 2, rate limits off, log level warn), driven over zmq like any client.
Every write goes through a server: faces are registered from real photos (UTKFace chips and
faces-large headshots scaled to 256 px, each in several brightness / contrast variants so that
features differ) with their landmarks, so registration runs alignment + descriptor but no
detection. One person per request unless stated.

- registrations/s and feature searches/s (interface 1, `field: "feature"`, a real feature from
  interface 6) with 1 server, then 3 servers on the same PostgreSQL (clients round-robin over
  them). Registration clients are threads; search clients are processes. The clients share the
  machine's cores with the servers and PostgreSQL: on a 2-core machine 3 servers cannot add
  CPU, they only show what the shared registry costs.
- propagation: register a face on server 1, then search for its feature on server 2 without
  min_version, as fast as replies come, until it is found: delay from the registration's reply.
- catch-up: server 3 misses N registrations (`restart`: stopped, then started again;
  `pause`: SIGSTOP'd, then SIGCONT'd, so a running server catches up), then the time until it
  answers a search with min_version = the newest version.
- start-up: server 3 restarted over the whole registry at each size, three ways: from its
  snapshot (snapshot_dir, one folder a server) written before the registry grew plus the change
  log's tail, from a fresh snapshot, and with no snapshot (every group read whole from
  PostgreSQL): time until it answers, the registry's own opening time (its log), and until it has
  applied the newest version; linear fits extrapolate to 1M faces (printed as extrapolations).
"""
import argparse
import base64
import glob
import json
import multiprocessing
import os
import platform
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

import cv2
import numpy as np
import zmq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "conformance"))
import postgres  # noqa: E402
from conftest import Server  # noqa: E402

SHARED = os.environ.get("FACEKIT_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))


class Node(Server):
    """The conformance suite's Server, started with a readiness probe instead of a log line (so the log
    level can be warn), and stoppable / startable again."""

    start_limit_s = 1800
    on_wait = None  # called with the seconds waited, about every progress_s, while the server starts
    progress_s = 60

    def start(self):
        binary = os.path.join(os.path.dirname(__import__("facekit").__file__), "bin", "facekit_server")
        self.log = open(os.path.join(self.tmp, "server.log"), "a+")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([binary, "--config", self.cfg_path], stderr=self.log)
        sock = self.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.face)
        sock.send_json({"interface": "12", "api_key": "bench"})
        next_report = self.progress_s
        try:
            while not sock.poll(20):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
                waited = time.perf_counter() - t0
                if waited > self.start_limit_s:
                    raise RuntimeError(f"server did not answer within {self.start_limit_s} s")
                if self.on_wait and waited >= next_report:
                    next_report += self.progress_s
                    self.on_wait(waited)
            sock.recv()
        finally:
            sock.close()
        self.started_s = time.perf_counter() - t0

    def shutdown(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(120)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            self.log.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.stop()
        else:
            self.ctx.destroy(linger=0)

    def cfg(self, key):
        with open(self.cfg_path) as f:
            return json.load(f).get(key)

    def set_config(self, **changes):
        """Changes this server's config file (takes effect at its next start)."""
        with open(self.cfg_path) as f:
            cfg = json.load(f)
        cfg.update(changes)
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f)

    def registry_opened(self):
        """(seconds, details) from the last start's log line 'registry URL: N faces ... opened in S s)'
        (log level info or debug), or (None, '')."""
        with open(os.path.join(self.tmp, "server.log"), errors="replace") as f:
            found = re.findall(r"INFO registry .*?: (\d+ faces in \d+ groups) \((.*?); HNSW.*opened in ([0-9.]+) s\)",
                               f.read())
        if not found:
            return None, ""
        faces, details, secs = found[-1]
        return float(secs), f"{faces}: {details}"

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))

    def log_tail(self, chars=3000):
        with open(os.path.join(self.tmp, "server.log"), errors="replace") as f:
            return f.read()[-chars:]


# -- photos

class Photos:
    """Distinct face photos with their landmarks: real bases x brightness / contrast variants."""

    def __init__(self, server, variants):
        paths = sorted(glob.glob(os.path.join(SHARED, "age-gender-utk", "*.jpg")))
        paths += sorted(glob.glob(os.path.join(SHARED, "faces-large", "face", "*.jpg")))
        rng = np.random.default_rng(0)
        self.items = []  # (base64 jpeg, landmarks)
        bases = []
        for p in paths:
            img = cv2.imread(p)
            scale = 256 / max(img.shape[:2])
            if scale < 1:
                img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            reply = server.request({"interface": "5", "api_key": "bench", "field": "portrait",
                                    "image_base64": jpeg_b64(img)})
            if reply["error_message"] == "601" and reply["detect_nums"] == 1:
                bases.append((img, reply["detect"][0]["landmark"]))
        for v in range(variants):
            for img, landmarks in bases:
                alpha, beta = (1.0, 0.0) if v == 0 else (rng.uniform(0.75, 1.25), rng.uniform(-25, 25))
                out = np.clip(img.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)
                self.items.append((jpeg_b64(out), landmarks))
        self.bases = len(bases)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i % len(self.items)]


def jpeg_b64(img):
    return base64.b64encode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()).decode()


def register_msg(group, ids, photos):
    return {"interface": "0", "api_key": "bench", "face_id": [str(i) for i in ids], "group_id": [group] * len(ids),
            "image_base64": [[p[0]] for p in photos], "landmarks": [[p[1]] for p in photos]}


def checked(reply, code):
    if reply.get("error_message") != code:
        raise RuntimeError(f"expected {code}, got {reply}")
    return reply



def print_logs(nodes, pg):
    """After a failure: each server's and PostgreSQL's log tail, on stderr."""
    for n in nodes:
        try:
            print(f"--- {n.face} log:\n{n.log_tail()}", file=sys.stderr)
        except OSError:
            pass
    print(f"--- postgres log:\n{pg.log_tail()}", file=sys.stderr)


def print_table(header, rows):
    """A markdown table: `header` names, then one line per row."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")


def percentile(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


# -- load generators

def register_load(nodes, group, photos, first_id, count, clients, batch=1, photo_offset=0):
    """count registrations of distinct face_ids, batch persons a request, from client threads spread over
    nodes; returns (seconds, per-request latencies in ms, newest version)."""
    lock, next_i, lat, versions, errors = threading.Lock(), [0], [], [], []

    def client(node):
        try:
            loop(node)
        except Exception as e:  # noqa: BLE001 (reported by the caller)
            errors.append(repr(e))

    def loop(node):
        sock = node.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(node.face)
        while True:
            with lock:
                i = next_i[0]
                if i >= count or errors:
                    break
                next_i[0] = i + batch
            n = min(batch, count - i)
            msg = register_msg(group, range(first_id + i, first_id + i + n),
                               [photos[photo_offset + i + k] for k in range(n)])
            t0 = time.perf_counter()
            sock.send_json(msg)
            if not sock.poll(120_000):
                errors.append("no reply within 120 s")
                break
            reply = sock.recv_json()
            ms = (time.perf_counter() - t0) * 1000
            if reply["error_message"] != "101":
                errors.append(reply)
                break
            with lock:
                lat.append(ms)
                versions.append(reply["version"])
        sock.close()

    threads = [threading.Thread(target=client, args=(nodes[c % len(nodes)],)) for c in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"registration failed: {errors[:3]}")
    return time.perf_counter() - t0, lat, max(versions)


def _search_client(endpoint, message, seconds, ready, go, out):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    ready.put(1)
    go.wait()
    done, bad, lat = 0, 0, []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        sock.send(message)
        reply = sock.recv()
        lat.append((time.perf_counter() - t0) * 1000)
        if b'"201"' in reply:
            done += 1
        else:
            bad += 1
    out.put((done, bad, lat))
    sock.close()
    ctx.destroy(linger=0)


def search_load(nodes, group, feature, seconds, clients):
    """Feature searches from client processes round-robin over nodes for seconds; (per s, p50, p99, bad)."""
    message = json.dumps({"interface": "1", "api_key": "bench", "group_id": group, "score": 0, "topk": 5,
                          "field": "feature", "feature": feature}).encode()
    mp = multiprocessing.get_context("spawn")
    out, ready, go = mp.Queue(), mp.Queue(), mp.Event()
    procs = [mp.Process(target=_search_client, args=(nodes[c % len(nodes)].face, message, seconds, ready, go, out))
             for c in range(clients)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=300)
    go.set()  # all started and connected: the clock starts in each of them now
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    done = sum(r[0] for r in results)
    lat = [x for r in results for x in r[2]]
    return done / seconds, percentile(lat, 50), percentile(lat, 99), sum(r[1] for r in results)


def wait_applied(node, group, version, feature, timeout=1800):
    """Seconds until node answers a search with min_version = version (retrying after each 10004)."""
    msg = {"interface": "1", "api_key": "bench", "group_id": group, "score": 0, "topk": 1, "field": "feature",
           "feature": feature, "min_version": version}
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        reply = node.request(msg, timeout_ms=600_000)
        if reply["error_message"] in ("201", "202"):
            return time.perf_counter() - t0
        if reply["error_message"] != "10004":
            raise RuntimeError(f"search with min_version: {reply}")
    raise RuntimeError(f"version {version} of {group} not applied within {timeout} s")


def feature_of(node, photo):
    return checked(node.request({"interface": "6", "api_key": "bench", "image_base64": [photo[0]],
                                 "landmarks": [photo[1]]}), "701")["feature"][0]


def total_faces(node):
    return checked(node.request({"interface": "12", "api_key": "bench"}), "1301")["reg_nums"]


# -- the measurements

def measure_throughput(nodes, photos, args, label, rows, search_rows, feature):
    """Registrations into a fresh group, then feature searches of the group the 1-server run filled."""
    secs, lat, _ = register_load(nodes, f"reg{len(nodes)}", photos, 0, args.reg_count, args.reg_clients)
    rows.append((label, f"{args.reg_count / secs:.1f}", f"{percentile(lat, 50):.0f}", f"{percentile(lat, 99):.0f}",
                 args.reg_clients))
    per_s, p50, p99, bad = search_load(nodes, "reg1", feature, args.search_seconds, args.search_clients)
    search_rows.append((label, f"{per_s:.0f}", f"{p50:.2f}", f"{p99:.2f}", args.search_clients, bad))


def measure_propagation(a, b, photos, samples, offset):
    group, delays_ack, delays_send, missed = "propagation", [], [], 0
    sock = b.ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(b.face)
    for i in range(samples):
        photo = photos[offset + i]
        feature = feature_of(a, photo)
        probe = json.dumps({"interface": "1", "api_key": "bench", "group_id": group, "score": 0, "topk": 5,
                            "field": "feature", "feature": feature}).encode()
        want = f'"{i}"'.encode()
        t_send = time.perf_counter()
        checked(a.request(register_msg(group, [i], [photo])), "101")
        t_ack = time.perf_counter()
        while True:
            sock.send(probe)
            reply = sock.recv()
            if want in reply and i in [int(x) for x in json.loads(reply)["face_id"]]:
                break
            if time.perf_counter() - t_ack > 60:
                missed += 1
                break
        t_found = time.perf_counter()
        delays_ack.append((t_found - t_ack) * 1000)
        delays_send.append((t_found - t_send) * 1000)
    sock.close()
    return delays_ack, delays_send, missed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a check that everything runs (~3 min)")
    ap.add_argument("--reg-count", type=int, default=400, help="registrations per throughput run")
    ap.add_argument("--reg-clients", type=int, default=4)
    ap.add_argument("--search-seconds", type=float, default=10)
    ap.add_argument("--search-clients", type=int, default=4)
    ap.add_argument("--prop-samples", type=int, default=200)
    ap.add_argument("--catchup", type=int, default=10000, help="registrations the catching-up server misses")
    ap.add_argument("--catchup-modes", default="restart,pause")
    ap.add_argument("--fill-clients", type=int, default=4, help="client threads filling the registry")
    ap.add_argument("--fill-batch", type=int, default=10, help="persons per request when filling for start-up")
    ap.add_argument("--startup-sizes", default="20000,30000,40000",
                    help="registry sizes (faces, all groups) at which server 3's start-up is timed")
    ap.add_argument("--variants", type=int, default=8, help="brightness variants of each photo")
    ap.add_argument("--shared-buffers", default="256MB")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="a server config setting for all servers, e.g. --set sync_interval_ms=500")
    ap.add_argument("--log-level", default="warn")
    if ap.parse_known_args()[0].quick:  # smaller defaults; sizes given explicitly still win
        ap.set_defaults(reg_count=40, search_seconds=3, prop_samples=20, catchup=200, startup_sizes="500,1000",
                        variants=2)
    args = ap.parse_args()
    command = "python bench/registry/scaleout.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    reason = postgres.missing()
    if reason:
        raise SystemExit(reason)

    pg = postgres.Postgres(shared_buffers=args.shared_buffers, max_connections=200)
    work = tempfile.mkdtemp(prefix="facekit-scaleout-")
    extra = {"registry_url": pg.url, "register_factor": 0, "max_requests": 0, "log_level": args.log_level}
    extra.update({k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)})
    nodes = []

    def node(i):
        d = os.path.join(work, f"server{i}")
        os.makedirs(d, exist_ok=True)
        nodes.append(Node(d, snapshot_dir=os.path.join(d, "snapshots"), **extra))
        return nodes[-1]

    try:
        a = node(1)
        print(f"server 1 up in {a.started_s:.1f} s; preparing photos", flush=True)
        photos = Photos(a, args.variants)
        print(f"{len(photos)} distinct photos ({photos.bases} people x {args.variants} variants)", flush=True)
        feature = feature_of(a, photos[0])
        reg_rows, search_rows = [], []

        print("throughput, 1 server", flush=True)
        measure_throughput([a], photos, args, "1 server", reg_rows, search_rows, feature)
        b, c = node(2), node(3)
        c.set_config(log_level="info")  # from its next start on: its log says how the registry was opened
        print("throughput, 3 servers", flush=True)
        measure_throughput([a, b, c], photos, args, "3 servers", reg_rows, search_rows, feature)

        print("propagation", flush=True)
        d_ack, d_send, missed = measure_propagation(a, b, photos, args.prop_samples, offset=7)

        catch_rows, next_id = [], 1_000_000
        for mode in [m for m in args.catchup_modes.split(",") if m]:
            print(f"catch-up ({mode}): {args.catchup} registrations while server 3 is away", flush=True)
            group = f"catchup-{mode}"
            checked(a.request(register_msg(group, [0], [photos[0]])), "101")
            if mode == "restart":
                c.shutdown()
            else:
                c.proc.send_signal(signal.SIGSTOP)
            try:
                secs, _, newest = register_load([a, b], group, photos, next_id, args.catchup, args.fill_clients)
            finally:
                if mode == "pause":
                    c.proc.send_signal(signal.SIGCONT)
            next_id += args.catchup
            t0 = time.perf_counter()
            if mode == "restart":
                c.start()
            answered = time.perf_counter() - t0
            applied = answered + wait_applied(c, group, newest, feature)
            opened, how = c.registry_opened() if mode == "restart" else (None, "")
            catch_rows.append((mode, args.catchup, f"{args.catchup / secs:.0f}",
                               f"{answered:.2f}" if mode == "restart" else "-",
                               f"{opened:.2f} ({how})" if opened is not None else "-", f"{applied:.2f}",
                               total_faces(a)))

        # Start-up at each size, three ways: its snapshot (written when it stopped, before the fill) plus the
        # log's tail; a fresh snapshot (nothing missed); an empty snapshot folder (every group read whole).
        start_rows, fits = [], {}
        own_snapshots = c.cfg("snapshot_dir")
        for size in [int(s) for s in args.startup_sizes.split(",") if s]:
            have = total_faces(a)
            if size < have and start_rows:
                print(f"  skipping {size}: the registry already holds {have} faces", flush=True)
                continue
            c.shutdown()
            since_snapshot = 0
            if size > have:
                print(f"filling the registry to {size} faces ({size - have} more, {args.fill_batch} a request)",
                      flush=True)
                register_load([a, b], "big", photos, next_id, size - have, args.fill_clients, args.fill_batch,
                              photo_offset=next_id)
                next_id += size - have
                since_snapshot = size - have
            newest = checked(a.request(register_msg("big", [next_id], [photos[next_id]])), "101")["version"]
            next_id += 1
            faces = total_faces(a)
            db_mb = int(pg.psql("SELECT pg_database_size(current_database())")) / 1e6
            ways = (("snapshot + log tail", own_snapshots, f"{since_snapshot} faces registered since its snapshot"),
                    ("fresh snapshot", own_snapshots, "stopped and started again at once"),
                    ("no snapshot", tempfile.mkdtemp(prefix="empty-", dir=work), "an empty snapshot_dir"))
            for i, (way, snapshots, what) in enumerate(ways):
                if i:
                    c.shutdown()
                c.set_config(snapshot_dir=snapshots)
                c.start()
                answered = c.started_s
                applied = answered + wait_applied(c, "big", newest, feature)
                opened, how = c.registry_opened()
                start_rows.append((faces, f"{db_mb:.0f}", f"{way} ({what})", f"{answered:.2f}",
                                   f"{opened:.2f} ({how})" if opened is not None else "-", f"{applied:.2f}",
                                   f"{c.rss_mb():.0f}"))
                fits.setdefault(way, []).append((faces, applied, db_mb, opened))
                print(f"  {faces} faces, {way}: answers after {answered:.2f} s, newest version applied after "
                      f"{applied:.2f} s", flush=True)
            c.set_config(snapshot_dir=own_snapshots)  # its next start reads its own (pre-fill) snapshot again
    except BaseException:
        print_logs(nodes, pg)
        raise
    finally:
        for n in nodes:
            n.close()
        pg.cleanup()

    print(f"\n`{command}`\n")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; PostgreSQL 15 "
          f"(fsync on, shared_buffers {args.shared_buffers}) on a unix socket; servers pool_size 2, "
          f"log level {args.log_level}{'; ' + ', '.join(args.set) if args.set else ''}; "
          f"{len(photos)} distinct photos.\n")
    print("| servers | registrations/s | p50 ms | p99 ms | client threads |")
    print("|---|---|---|---|---|")
    for r in reg_rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print(f"\nOne person a request, landmarks given (no detection), {args.reg_count} registrations a run.\n")
    print("| servers | feature searches/s | p50 ms | p99 ms | client processes | not 201 |")
    print("|---|---|---|---|---|---|")
    for r in search_rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print(f"\nGroup of {args.reg_count} faces, topk 5, {args.search_seconds:g} s a run.\n")
    print("| propagation (register on 1, found by search on 2, no min_version) | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, d in (("from the registration's reply", d_ack), ("from sending the registration", d_send)):
        print(f"| {name} | {percentile(d, 50):.1f} | {percentile(d, 90):.1f} | {percentile(d, 99):.1f} | "
              f"{max(d):.1f} |")
    print(f"\n{len(d_ack)} samples{f', {missed} NOT FOUND within 60 s' if missed else ''}"
          f"{' (p99 of fewer than 100 samples is close to the maximum)' if len(d_ack) < 100 else ''}.\n")
    if catch_rows:
        print_table(["catch-up", "changes missed", "fill rate /s (2 servers)", "answering after start s",
                     "registry opened in s (server log)", "newest version applied after s", "registry faces"],
                    catch_rows)
        print("\nrestart: stopped (SIGINT: it writes its snapshot), started again (its snapshot + the change log's "
              "tail); pause: SIGSTOP, then SIGCONT (timed from SIGCONT), the running server follows the log.\n")
    if start_rows:
        print_table(["registry faces (all groups)", "database MB", "start-up from", "answering after s",
                     "registry opened in s (server log)", "newest version applied after s", "RSS MB"], start_rows)
        print("\n'answering': from starting the process to its first reply (the models load first); "
              "'applied': until a search with min_version = the newest version is answered.")
        sizes = next(iter(fits.values()), [])
        if len(sizes) >= 2:
            n = np.array([f[0] for f in sizes], dtype=float)
            print(f"\nExtrapolated to 1M faces, not measured (linear fits over {len(sizes)} sizes, "
                  f"{int(n.min())}-{int(n.max())} faces; nothing says it stays linear that far):")
            for way in ("fresh snapshot", "no snapshot"):
                for name, col in (("newest version applied", 1), ("registry opened (server log)", 3)):
                    ys = [f[col] for f in fits[way]]
                    if None in ys:
                        continue
                    slope, intercept = np.polyfit(n, np.array(ys), 1)
                    if slope <= 0:
                        print(f"- {way}, {name}: no growth measurable over these sizes "
                              f"({min(ys):.2f}-{max(ys):.2f} s)")
                        continue
                    print(f"- {way}, {name}: {intercept + slope * 1e6:.0f} s ({slope * 1e6:.1f} s per million "
                          f"faces, intercept {intercept:.1f} s)")
            mb_per_face = (sizes[-1][2] - sizes[0][2]) / (sizes[-1][0] - sizes[0][0])
            print(f"- database: about {mb_per_face * 1e6 / 1e3:.1f} GB ({mb_per_face * 1e3:.1f} KB a face, "
                  f"face crops included)")


if __name__ == "__main__":
    main()
