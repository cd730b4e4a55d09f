"""facekit.Registry from Python with real descriptors."""
import numpy as np
import pytest

import facekit


@pytest.fixture(scope="module")
def engine():
    return facekit.Engine()


def test_put_search_remove_and_reopen(tmp_path, engine, shared_data):
    import os
    p = lambda rel: os.path.join(shared_data, "faces-dev", rel)  # noqa: E731
    path = tmp_path / "reg.db"
    reg = facekit.Registry(path, engine)
    reg.put("g", "1", np.stack([engine.extract(p("obama/obama1.jpg")), engine.extract(p("obama/obama3.jpg"))]))
    reg.put("g", "2", engine.extract(p("biden/biden1.jpg")))
    hits = reg.search_score("g", engine.extract(p("obama/obama2.jpg")))
    assert [h[0] for h in hits] == ["1"] and hits[0][1] >= 70
    assert reg.count("g") == 2 and reg.groups() == ["g"]
    assert reg.remove("g", "2") and not reg.contains("g", "2")
    del reg
    again = facekit.Registry(path, engine)
    assert again.count_all() == 1
    assert again.startup["rows_rebuilt"] == 2 and again.startup["groups_from_snapshot"] == 0  # no snapshot yet
    again.save_snapshot()
    del again
    third = facekit.Registry(path, engine)
    assert third.startup["groups_from_snapshot"] == 1 and third.startup["rows_rebuilt"] == 0
    assert third.startup["distance_kernel"] in ("avx2-fma-f16c", "portable") and third.startup["seconds"] > 0
    assert [h[0] for h in third.search_score("g", engine.extract(p("obama/obama2.jpg")))] == ["1"]


def test_wrong_dimension_is_rejected(tmp_path, engine):
    reg = facekit.Registry(tmp_path / "r.db", engine)
    with pytest.raises(facekit.FacekitError) as err:
        reg.put("g", "1", np.ones(10, np.float32))
    assert err.value.protocol_code == 10005
