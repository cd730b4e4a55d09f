"""Scale-out: three real facekit_server processes sharing one throw-away PostgreSQL registry.

Each server keeps its own in-memory index synced from PostgreSQL (LISTEN/NOTIFY plus a poll of
group versions); writes answer the group's `version`, and a search given `min_version` waits
until its server has applied that version. Every face here comes from a real photo: a pool of
distinct people (faces-large headshots, UTKFace chips), so searching with a face's own photo
finds exactly that face_id at the top, and faces-dev's Obama / Biden for another photo of the
same person. Groups are per test, so the tests share the servers without seeing each other.
Timing is generous (propagation within 10 s); the latency targets are measured by
bench/registry/scaleout.py, not asserted here.
"""
import glob
import os
import signal
import threading
import time

import pytest
import zmq

import postgres
from conftest import Server, b64

DEADLINE_S = 10  # propagation without min_version, and PostgreSQL coming back
MIN_VERSION_WAIT_MS = 5000  # generous (default 2000): a loaded CI machine must not turn a wait into 10004


class Node(Server):
    """A conftest Server that can be stopped and started again (Server.stop also ends its zmq context)."""

    def shutdown(self):
        """SIGINT (graceful), as stop() does, but keeps the context so that start() can follow."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            self.log.close()

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        if self.alive():
            self.proc.send_signal(signal.SIGCONT)  # in case a test left it paused
            self.stop()
        else:
            self.ctx.destroy(linger=0)
            if not self.log.closed:
                self.log.close()

    def log_tail(self, chars=3000):
        with open(os.path.join(self.tmp, "server.log"), errors="replace") as f:
            return f.read()[-chars:]


def start_nodes(tmp_path_factory, url, count, **extra):
    """count servers on the registry at url, each with its own snapshot folder (a restart reads its snapshot
    plus the change log's tail, or the whole group when the log no longer reaches back to the snapshot)."""
    nodes = []
    try:
        for i in range(count):
            tmp = str(tmp_path_factory.mktemp(f"scaleout-server{i + 1}"))
            nodes.append(Node(tmp, registry_url=url, snapshot_dir=os.path.join(tmp, "snapshots"), register_factor=0,
                              max_requests=0, min_version_wait_ms=MIN_VERSION_WAIT_MS, **extra))
    except BaseException:
        for n in nodes:
            n.close()
        raise
    return nodes


@pytest.fixture(scope="module")
def pg():
    reason = postgres.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"scale-out tests need PostgreSQL in CI: {reason}")
        pytest.skip(reason)
    db = postgres.Postgres()
    yield db
    db.cleanup()


@pytest.fixture(scope="module")
def servers(pg, tmp_path_factory):
    nodes = start_nodes(tmp_path_factory, pg.url, 3)
    yield nodes
    for n in nodes:
        n.close()


@pytest.fixture(scope="module")
def trim_servers(pg, tmp_path_factory):
    """Three more servers on their own database, keeping only 3 changes per group in the change log."""
    nodes = start_nodes(tmp_path_factory, pg.create_database("facekit_trim"), 3, change_log_keep=3)
    yield nodes
    for n in nodes:
        n.close()


class Photo(str):
    """A photo as base64 that prints as its file name (failure reports stay readable)."""

    def __new__(cls, path):
        photo = super().__new__(cls, b64(path))
        photo.name = os.path.basename(path)
        return photo

    def __repr__(self):
        return f"<{self.name}>"


@pytest.fixture(scope="module")
def people(shared_data):
    """Photos of distinct people as base64, one face each (searching with one finds its own face_id first)."""
    paths = sorted(glob.glob(os.path.join(shared_data, "faces-large", "face", "*.jpg")))
    paths += sorted(glob.glob(os.path.join(shared_data, "age-gender-utk", "*.jpg")))
    assert len(paths) >= 100, f"expected faces-large and age-gender-utk photos in {shared_data}"
    return [Photo(p) for p in paths]


# -- the protocol, as these tests use it

def register(server, group, ids, photos):
    """Interface 0, one photo a person; asserts 101 and an int version; returns the reply."""
    reply = server.request({"interface": "0", "api_key": "k", "face_id": [str(i) for i in ids],
                            "group_id": [group] * len(ids), "image_base64": [[p] for p in photos]})
    assert reply["error_message"] == "101", reply
    assert isinstance(reply.get("version"), int) and not isinstance(reply["version"], bool), reply
    return reply


def delete(server, group, face_id, **extra):
    reply = server.request(dict({"interface": "2", "api_key": "k", "group_id": group, "face_id": str(face_id)},
                                **extra))
    assert reply["error_message"] in ("301", "302"), reply
    assert isinstance(reply.get("version"), int), reply
    return reply


def search(server, group, photo, min_version=None, score=90, topk=1):
    msg = {"interface": "1", "api_key": "k", "group_id": group, "score": score, "topk": topk,
           "image_base64": [photo]}
    if min_version is not None:
        msg["min_version"] = min_version
    return server.request(msg)


def top_id(server, group, photo, min_version=None):
    """The face_id that a search with this photo finds first (score >= 90), or None; asserts no error."""
    reply = search(server, group, photo, min_version)
    assert reply["error_message"] in ("201", "202"), reply
    return reply["face_id"][0] if reply["face_id"] else None


def query(server, group, face_id):
    return server.request({"interface": "3", "api_key": "k", "group_id": group,
                           "face_id": str(face_id)})["error_message"]


def count(server, group=None):
    msg = {"interface": "12", "api_key": "k"}
    if group is not None:
        msg["group_id"] = group
    reply = server.request(msg)
    assert reply["error_message"] == "1301", reply
    return reply["reg_nums"]


def wait_for(check, timeout=DEADLINE_S, what="condition"):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.05)


# -- propagation between servers

def test_register_on_one_server_is_searchable_on_the_others_with_min_version(servers, people):
    s1, s2, s3 = servers
    reply = register(s1, "so-minv", [101, 102], people[0:2])
    for other in (s2, s3):
        assert top_id(other, "so-minv", people[0], min_version=reply["version"]) == "101"
        assert top_id(other, "so-minv", people[1], min_version=reply["version"]) == "102"
        assert query(other, "so-minv", 101) == "401"


def test_register_on_one_server_becomes_searchable_on_the_others_without_min_version(servers, people):
    s1, s2, s3 = servers
    register(s2, "so-nominv", [201], [people[2]])
    for other in (s1, s3):
        wait_for(lambda: top_id(other, "so-nominv", people[2]) == "201", what="face 201 found without min_version")


def test_sequential_writes_answer_increasing_versions_whichever_server_takes_them(servers, people):
    versions = [register(s, "so-versions", [300 + i], [people[3 + i]])["version"] for i, s in enumerate(servers)]
    versions.append(delete(servers[0], "so-versions", 300)["version"])
    assert versions == sorted(versions) and len(set(versions)) == len(versions), versions


def test_search_waiting_for_a_version_never_written_answers_10004(servers, people):
    reply = register(servers[0], "so-future", [1], [people[6]])
    t0 = time.time()
    late = search(servers[1], "so-future", people[6], min_version=reply["version"] + 1000)
    assert late["error_message"] == "10004", late
    assert time.time() - t0 >= MIN_VERSION_WAIT_MS / 1000 * 0.9  # it waited min_version_wait_ms first
    assert top_id(servers[1], "so-future", people[6], min_version=reply["version"]) == "1"


@pytest.mark.parametrize("bad", [-1, "1", 1.5], ids=["negative", "string", "float"])
def test_search_min_version_not_a_non_negative_int_is_10005(servers, people, bad):
    msg = {"interface": "1", "api_key": "k", "group_id": "so-minv", "score": 90, "topk": 1,
           "image_base64": [people[0]], "min_version": bad}
    assert servers[0].request(msg)["error_message"] == "10005"


def test_delete_on_one_server_is_reflected_on_the_others(servers, people):
    s1, s2, s3 = servers
    register(s1, "so-del", [1, 2], people[10:12])
    gone = delete(s2, "so-del", 1)
    assert gone["error_message"] == "301"
    for other in (s1, s3):
        assert top_id(other, "so-del", people[10], min_version=gone["version"]) != "1"
        assert top_id(other, "so-del", people[11], min_version=gone["version"]) == "2"
        assert query(other, "so-del", 1) == "402" and query(other, "so-del", 2) == "401"
    assert delete(s3, "so-del", 1)["error_message"] == "302"  # already gone, whichever server is asked


def test_delete_propagates_without_min_version(servers, people):
    s1, s2, s3 = servers
    v = register(s1, "so-del-poll", [7], [people[12]])["version"]
    assert top_id(s3, "so-del-poll", people[12], min_version=v) == "7"
    delete(s1, "so-del-poll", 7)
    wait_for(lambda: top_id(s3, "so-del-poll", people[12]) is None, what="deleted face 7 gone from server 3")


def test_range_delete_on_one_server_is_reflected_on_the_others(servers, people):
    s1, s2, s3 = servers
    ids = [5, 9, 10, 11, 100]
    register(s1, "so-range", ids, people[20:25])
    gone = delete(s3, "so-range", 10, field="range")
    assert gone["error_message"] == "301"
    for other in (s1, s2):
        found = [top_id(other, "so-range", p, min_version=gone["version"]) for p in people[20:25]]
        assert found == [None, None, None, "11", "100"]
        assert [query(other, "so-range", i) for i in ids] == ["402", "402", "402", "401", "401"]
        assert count(other, "so-range") == 2


def test_overwrite_with_another_persons_photo_is_reflected_on_the_others(servers, images):
    s1, s2, s3 = servers
    register(s1, "so-overwrite", [40], [images.obama1])
    replaced = register(s2, "so-overwrite", [40], [images.biden])
    for other in (s1, s3):
        reply = search(other, "so-overwrite", images.obama2, min_version=replaced["version"], score=70, topk=5)
        assert reply["error_message"] == "202" and reply["face_id"] == [], reply  # Obama's features are gone
        assert top_id(other, "so-overwrite", images.biden) == "40"
        assert count(other, "so-overwrite") == 1


def test_counts_are_equal_on_every_server_and_match_what_was_registered(servers, people):
    s1, s2, s3 = servers
    register(s1, "so-count-a", [1, 2, 3], people[30:33])
    register(s2, "so-count-a", [4], [people[33]])
    register(s3, "so-count-b", [1, 2], people[34:36])
    register(s3, "so-count-a", [2], [people[36]])  # an overwrite: still 4 people
    delete(s2, "so-count-b", 1)
    # Counts are read from PostgreSQL: right on every server at once, no waiting for the sync.
    assert [count(s, "so-count-a") for s in servers] == [4, 4, 4]
    assert [count(s, "so-count-b") for s in servers] == [1, 1, 1]
    assert [count(s, "so-count-none") for s in servers] == [0, 0, 0]
    totals = [count(s) for s in servers]
    assert totals[0] == totals[1] == totals[2] >= 5


# -- failures: a server killed, PostgreSQL restarted, a server behind a trimmed change log

def request_unless_dead(node, message, timeout_s=60):
    """node.request, but None as soon as the server process has died (the request is then unacknowledged)."""
    sock = node.ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(node.face)
    try:
        sock.send_json(message)
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if sock.poll(100):
                return sock.recv_json()
            if not node.alive():
                return None
        raise AssertionError(f"no reply within {timeout_s} s from a live server")
    finally:
        sock.close()


class Enrolment(threading.Thread):
    """Registers faces one by one through a server until stopped or the server dies; records what was acked."""

    def __init__(self, node, group, ids, photos, pause_s=0.0):
        super().__init__(daemon=True)
        self.node, self.group, self.todo, self.pause_s = node, group, list(zip(ids, photos)), pause_s
        self.stop_now = threading.Event()
        self.attempted, self.acked, self.versions, self.errors = [], [], [], []

    def run(self):
        try:
            self.enrol()
        except Exception as e:  # noqa: BLE001 (reported by the test through self.errors)
            self.errors.append(repr(e))

    def enrol(self):
        for face_id, photo in self.todo:
            if self.stop_now.is_set():
                return
            self.attempted.append(face_id)
            reply = request_unless_dead(self.node, {"interface": "0", "api_key": "k", "face_id": [str(face_id)],
                                                    "group_id": [self.group], "image_base64": [[photo]]})
            if reply is None:
                return  # killed while this one was in flight: it may or may not have been committed
            if reply["error_message"] != "101":
                self.errors.append(reply)
                return
            self.acked.append(face_id)
            self.versions.append(reply["version"])
            time.sleep(self.pause_s)

    def wait_acked(self, n, timeout=120):
        wait_for(lambda: len(self.acked) >= n or not self.is_alive(), timeout, f"{n} acknowledged registrations")
        assert len(self.acked) >= n, (self.acked, self.errors)


def test_kill9_during_enrolment_loses_no_acknowledged_face(servers, people):
    """Server 3 is killed while a client enrols through it; another client enrols through server 1 meanwhile."""
    s1, s2, victim = servers
    through_victim = Enrolment(victim, "so-kill-a", range(1000, 1060), people[:60])
    through_s1 = Enrolment(s1, "so-kill-b", range(2000, 2000 + len(people)), people, pause_s=0.2)
    through_victim.start()
    through_s1.start()
    try:
        through_victim.wait_acked(5)
        victim.kill9()
        through_victim.join(30)
        assert not through_victim.is_alive() and not through_victim.errors, through_victim.errors
        through_s1.wait_acked(len(through_s1.acked) + 3)  # writes go on while the victim is down
        victim.start()
        through_s1.wait_acked(len(through_s1.acked) + 3)
    finally:
        through_s1.stop_now.set()
        through_s1.join(120)
    assert not through_s1.errors, through_s1.errors

    for group, client in (("so-kill-a", through_victim), ("so-kill-b", through_s1)):
        photo, newest = dict(client.todo), max(client.versions)  # versions are per group
        for node in servers:
            assert search(node, group, photo[client.acked[0]], min_version=newest)["error_message"] == "201"
            lost = [i for i in client.acked if query(node, group, i) != "401"]
            assert not lost, f"acknowledged faces missing on {node.face}: {lost}"
            not_found = [i for i in client.acked if top_id(node, group, photo[i]) != str(i)]
            assert not not_found, f"acknowledged faces not found by search on {node.face}: {not_found}"
            registered = {i for i in client.attempted if query(node, group, i) == "401"}
            assert set(client.acked) <= registered <= set(client.attempted)  # at most the one in flight more
            assert count(node, group) == len(registered)

    # The restarted server takes writes again, and the others see them.
    v = register(victim, "so-kill-a", [3000], [people[120]])["version"]
    assert top_id(s2, "so-kill-a", people[120], min_version=v) == "3000"


def store_unavailable(reply):
    """10004: the whole request, or (registration) each person of a 102, failed on the registry's store."""
    if not isinstance(reply, dict):
        return False
    if reply["error_message"] == "102":
        return set(reply["failed_message"]) == {"10004"}
    return reply["error_message"] == "10004"


def register_retrying(node, group, face_id, photo, timeout=30):
    """Registers one face, retrying while PostgreSQL comes back (10004 or no reply yet); returns the reply."""
    deadline, seen = time.time() + timeout, []
    while time.time() < deadline:
        reply = node.request({"interface": "0", "api_key": "k", "face_id": [str(face_id)], "group_id": [group],
                              "image_base64": [[photo]]})
        if reply["error_message"] == "101":
            return reply
        assert store_unavailable(reply), reply
        seen.append(reply)
        time.sleep(0.5)
    raise AssertionError(f"registration through {node.face} still failing after {timeout} s: {seen[-3:]}")


def test_servers_work_on_after_postgres_restarts_under_them(servers, people, pg):
    group = "so-pgrestart"
    v = register(servers[0], group, [1], [people[0]])["version"]
    assert top_id(servers[2], group, people[0], min_version=v) == "1"

    during = Enrolment(servers[0], group, range(100, 130), people[50:80])
    during.start()
    during.wait_acked(2)
    pg.restart()  # pg_ctl restart -m fast: every server's connections are cut
    during.stop_now.set()
    during.join(120)
    assert all(store_unavailable(e) for e in during.errors), during.errors

    # Each server writes again once PostgreSQL is back, and the other two see its write at once.
    for i, writer in enumerate(servers):
        reply = register_retrying(writer, group, 10 + i, people[10 + i])
        for other in servers:
            if other is not writer:
                assert top_id(other, group, people[10 + i], min_version=reply["version"]) == str(10 + i)
    # Without min_version too: notifications (or the poll) resumed on the new connections.
    register(servers[1], group, [20], [people[20]])
    for other in (servers[0], servers[2]):
        wait_for(lambda: top_id(other, group, people[20]) == "20", what="face 20 found after the restart")
    # What was acknowledged around the restart is there.
    for node in servers:
        assert [i for i in during.acked + [1] if query(node, group, i) != "401"] == []


def twelve_changes(writer, group, people, images):
    """Registers 1-4 (people[60:64]), then makes 12 more changes through writer; returns (version, expected)."""
    register(writer, group, [1, 2, 3, 4], people[60:64])
    changes = []
    for i in range(5, 11):
        changes.append(register(writer, group, [i], [people[60 + i - 1]]))  # 6 registrations: 5..10
    changes.append(delete(writer, group, 1))
    changes.append(delete(writer, group, 2, field="range"))  # 2 (1 is gone already)
    changes.append(register(writer, group, [3], [images.biden]))  # 3 overwritten by someone else
    changes.append(register(writer, group, [11, 12], people[70:72]))
    changes.append(delete(writer, group, 5))
    changes.append(register(writer, group, [13], [people[72]]))
    assert len(changes) > 10
    expected = {1: None, 2: None, 3: images.biden, 4: people[63], 5: None}
    expected.update({i: people[60 + i - 1] for i in range(6, 11)})
    expected.update({11: people[70], 12: people[71], 13: people[72]})
    return max(c["version"] for c in changes), expected


def assert_same_registry(nodes, group, version, expected, old_photo_of_3):
    for node in nodes:
        assert top_id(node, group, expected[4], min_version=version) == "4", node.log_tail()
        assert count(node, group) == sum(1 for p in expected.values() if p is not None)
        for face_id, photo in expected.items():
            assert query(node, group, face_id) == ("401" if photo else "402"), (node.face, face_id)
            if photo:
                assert top_id(node, group, photo) == str(face_id), (node.face, face_id)
        assert top_id(node, group, old_photo_of_3) != "3", node.face  # the overwritten features are gone


def _third_server_down_during_twelve_changes(three, group, people, images):
    """Server 3 shut down while server 1 makes twelve changes, then started: it agrees with the others."""
    a, b, c = three
    v = register(a, group, [99], [people[59]])["version"]
    assert top_id(c, group, people[59], min_version=v) == "99"
    c.shutdown()
    version, expected = twelve_changes(a, group, people, images)
    expected[99] = people[59]
    c.start()
    assert_same_registry([c, b, a], group, version, expected, old_photo_of_3=people[62])


def test_server_stopped_then_started_again_applies_what_it_missed(servers, people, images):
    """Server 3 stopped (SIGINT) while 12 changes were made (the log, change_log_keep 100000, holds them all)."""
    _third_server_down_during_twelve_changes(servers, "so-replay", people, images)


def test_server_down_while_the_change_log_was_trimmed_reloads_the_group(trim_servers, people, images):
    _third_server_down_during_twelve_changes(trim_servers, "so-trim-down", people, images)


def test_server_paused_while_the_change_log_was_trimmed_reloads_the_group(trim_servers, people, images):
    """SIGSTOP keeps server 3 running but deaf: on SIGCONT it is behind the trimmed log while running."""
    t1, t2, t3 = trim_servers
    group = "so-trim-paused"
    v = register(t1, group, [99], [people[59]])["version"]
    assert top_id(t3, group, people[59], min_version=v) == "99"
    t3.proc.send_signal(signal.SIGSTOP)
    try:
        version, expected = twelve_changes(t1, group, people, images)
    finally:
        t3.proc.send_signal(signal.SIGCONT)
    expected[99] = people[59]
    assert_same_registry([t3, t2, t1], group, version, expected, old_photo_of_3=people[62])
