"""facekit.Registry on a shared PostgreSQL registry: two registries (as two servers would) on one
throw-away PostgreSQL see each other's writes through the change log; a trimmed log means a
full reload; a newer schema and another feature model are refused; counts come from the store."""
import os
import sys

import numpy as np
import pytest

import facekit

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))
import postgres  # noqa: E402  (tests/conformance/postgres.py: the throw-away cluster)

DIM = 16


class _Model:
    """What Registry reads of an engine: the feature length and the model id."""

    def __init__(self, model_id="test-model", dimension=DIM):
        self.dimension, self.feature_model_id = dimension, model_id


@pytest.fixture(scope="module")
def pg():
    reason = postgres.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with postgres.Postgres() as cluster:
        yield cluster


@pytest.fixture
def url(pg, request):
    return pg.create_database("t_" + request.node.name.lower()[:50])


def vectors(n, seed=0):
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def top(reg, group, v):
    hits = reg.search(group, v, 1, 0.9)
    return hits[0].face_id if hits else None


def test_a_write_through_one_registry_is_applied_by_the_other(url):
    a, b = facekit.Registry(url, _Model()), facekit.Registry(url, _Model())
    assert a.shared and b.shared
    v = vectors(3)
    a.put("g", "1", v[:1])
    assert a.version("g") == 1
    assert b.wait_for_version("g", a.version("g"), 10.0)
    assert top(b, "g", v[0]) == "1"
    a.put("g", "1", v[1:2])  # overwrite: the old feature is gone everywhere
    a.put("g", "2", v[2:3])
    a.remove("g", "2")
    assert b.wait_for_version("g", a.version("g"), 10.0)
    assert b.version("g") == 4
    assert top(b, "g", v[0]) is None and top(b, "g", v[1]) == "1" and top(b, "g", v[2]) is None
    assert b.count("g") == 1 and b.count_all() == 1 and not b.contains("g", "2")


def test_changes_arrive_without_being_asked_for(url):
    a, b = facekit.Registry(url, _Model(), sync_interval_ms=200), facekit.Registry(url, _Model(), sync_interval_ms=200)
    v = vectors(2, seed=1)
    a.put("g", "7", v[:1])
    import time
    deadline = time.time() + 20
    while top(b, "g", v[0]) != "7" and time.time() < deadline:
        time.sleep(0.05)
    assert top(b, "g", v[0]) == "7"  # by notice or poll, with no wait_for_version


def test_range_delete_and_bulk_writes_propagate(url):
    a, b = facekit.Registry(url, _Model()), facekit.Registry(url, _Model())
    v = vectors(6, seed=2)
    a.put_many("g", [str(i) for i in range(6)], v)
    assert a.remove_range("g", "3") == 4
    assert b.wait_for_version("g", a.version("g"), 10.0)
    assert [top(b, "g", x) for x in v] == [None, None, None, None, "4", "5"]
    assert b.count("g") == a.count("g") == 2


def test_a_registry_behind_a_trimmed_log_reloads_the_group(url):
    a = facekit.Registry(url, _Model(), change_log_keep=2)
    v = vectors(8, seed=3)
    a.put("g", "1", v[:1])
    b = facekit.Registry(url, _Model(), change_log_keep=2, sync_interval_ms=600000)
    assert b.version("g") == 1
    for i in range(2, 8):  # six more changes: b's version 1 is no longer followed by the log
        a.put("g", str(i), v[i - 1:i])
    a.remove("g", "1")
    assert b.wait_for_version("g", a.version("g"), 10.0)
    assert top(b, "g", v[0]) is None
    assert [top(b, "g", v[i - 1]) for i in range(2, 8)] == [str(i) for i in range(2, 8)]


def test_a_new_registry_starts_from_the_store(url):
    a = facekit.Registry(url, _Model())
    v = vectors(4, seed=4)
    for i in range(4):
        a.put("g%d" % (i % 2), str(i), v[i:i + 1])
    c = facekit.Registry(url, _Model())
    assert c.version("g0") == a.version("g0") == 2
    assert [top(c, "g%d" % (i % 2), v[i]) for i in range(4)] == ["0", "1", "2", "3"]
    assert c.startup["rows_rebuilt"] == 4


def test_another_feature_model_is_refused(url):
    facekit.Registry(url, _Model("model-a"))
    with pytest.raises(facekit.FacekitError) as e:
        facekit.Registry(url, _Model("model-b"))
    assert "model-a" in str(e.value) and e.value.code == "model_unavailable"


def test_a_newer_schema_is_refused(pg, url):
    facekit.Registry(url, _Model())
    db = url.split("///")[1].split("?")[0]
    pg.psql("UPDATE facekit_meta SET value = '99' WHERE key = 'schema_version'", database=db)
    with pytest.raises(facekit.FacekitError, match="schema version 99"):
        facekit.Registry(url, _Model())


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(facekit.FacekitError) as e:
        facekit.Registry(f"postgresql:///x?host={tmp_path}&password=secret", _Model())
    assert e.value.code == "unavailable" and "secret" not in str(e.value)


def test_a_restart_from_a_snapshot_reads_only_the_logs_tail(url, tmp_path):
    v = vectors(6, seed=5)
    a = facekit.Registry(url, _Model(), snapshot_dir=str(tmp_path / "a"))
    a.put_many("g", ["1", "2", "3"], v[:3])
    a.save_snapshot()
    b = facekit.Registry(url, _Model())
    b.put("g", "4", v[3:4])  # after the snapshot, through another registry
    b.remove("g", "1")
    del a
    a = facekit.Registry(url, _Model(), snapshot_dir=str(tmp_path / "a"))
    start = a.startup
    assert start["groups_from_snapshot"] == 1 and start["rows_rebuilt"] == 0
    assert start["rows_replayed"] == 2  # faces 4 and 1: the two changes after version 1
    assert a.version("g") == 3
    assert [top(a, "g", x) for x in v[:4]] == [None, "2", "3", "4"]


def test_a_snapshot_of_another_database_is_not_used(pg, url, tmp_path):
    v = vectors(2, seed=6)
    a = facekit.Registry(url, _Model(), snapshot_dir=str(tmp_path / "s"))
    a.put("g", "1", v[:1])
    a.save_snapshot()
    other = pg.create_database("t_other_db_for_snapshot")
    c = facekit.Registry(other, _Model())
    c.put("g", "2", v[1:2])  # same group, same version 1, other rows
    d = facekit.Registry(other, _Model(), snapshot_dir=str(tmp_path / "s"))
    assert d.startup["groups_from_snapshot"] == 0
    assert top(d, "g", v[0]) is None and top(d, "g", v[1]) == "2"


def test_a_snapshot_behind_a_trimmed_log_is_dropped_for_a_whole_read(url, tmp_path):
    v = vectors(6, seed=7)
    a = facekit.Registry(url, _Model(), change_log_keep=2, snapshot_dir=str(tmp_path / "a"))
    a.put("g", "1", v[:1])
    a.save_snapshot()
    del a
    b = facekit.Registry(url, _Model(), change_log_keep=2)
    for i in range(2, 7):  # five versions after the snapshot's; the log keeps two
        b.put("g", str(i), v[i - 1:i])
    a = facekit.Registry(url, _Model(), change_log_keep=2, snapshot_dir=str(tmp_path / "a"))
    assert a.startup["groups_from_snapshot"] == 0 and a.startup["rows_rebuilt"] == 6
    assert [top(a, "g", x) for x in v] == ["1", "2", "3", "4", "5", "6"]


def test_concurrent_writers_on_two_registries_converge_on_the_truth(url):
    """Threads write (put / overwrite / delete) through two registries at once; afterwards
    both indexes hold exactly what PostgreSQL holds."""
    import threading
    a = facekit.Registry(url, _Model(), sync_interval_ms=100)
    b = facekit.Registry(url, _Model(), sync_interval_ms=100)
    v = vectors(40, seed=8)
    errors = []

    def writer(reg, seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(60):
                face = str(rng.integers(0, 12))
                if rng.random() < 0.25:
                    reg.remove("g", face)
                else:
                    reg.put("g", face, v[rng.integers(0, 40)][None, :])
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(reg, i)) for i, reg in enumerate([a, b, a, b])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    final = max(a.version("g"), b.version("g"))
    assert a.wait_for_version("g", final, 20.0) and b.wait_for_version("g", final, 20.0)
    truth = facekit.Registry(url, _Model())  # read whole from the store
    assert a.version("g") == b.version("g") == truth.version("g")
    for face in map(str, range(12)):
        assert a.contains("g", face) == b.contains("g", face) == truth.contains("g", face), face
    def hits(reg, x):  # sorted: people registered with the same vector tie in any order
        return sorted((h.face_id, round(h.cosine, 4)) for h in reg.search("g", x, 12, 0.99))

    for x in v:
        assert hits(a, x) == hits(truth, x) and hits(b, x) == hits(truth, x)
    assert a.count("g") == sum(truth.contains("g", f) for f in map(str, range(12)))


def test_a_delete_through_a_registry_that_may_not_have_the_group_yet(url):
    # b may or may not have mirrored "fresh" when the delete comes (its notice races the
    # writes): either way the delete lands, b answers with the version it wrote, and a delete
    # naming a group nobody registered leaves no group behind.
    b = facekit.Registry(url, _Model(), sync_interval_ms=60_000)
    a = facekit.Registry(url, _Model())
    v = vectors(2, seed=5)
    a.put("fresh", "1", v[:1])
    a.put("fresh", "2", v[1:2])
    assert b.remove("fresh", "2")
    assert b.version("fresh") == 3
    assert a.wait_for_version("fresh", 3, 10.0) and not a.contains("fresh", "2") and a.contains("fresh", "1")
    assert b.remove_range("fresh", "9") == 1 and b.count("fresh") == 0
    assert not b.remove("made-up", "1") and b.remove_range("made-up-too", "9") == 0
    assert "made-up" not in b.groups() and "made-up-too" not in b.groups()
