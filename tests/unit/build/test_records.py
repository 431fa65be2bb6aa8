"""Build records: round trip, ids, latest."""

from __future__ import annotations

import pytest

from wheelworks.build.records import BuildRecord, Records, StepRecord, TargetRecord
from wheelworks.shared.errors import WheelworksError


def test_records_round_trip_and_lookup(tmp_path):
    store = Records(tmp_path)
    for build_id in ("20260101-000000-aaaa", "20260102-000000-bbbb"):
        record = BuildRecord(
            id=build_id, project="p", repo="r", ref="main", config="c", config_digest="d", platform="x", started=1.0,
            targets=[TargetRecord("cp312-x", "3.12", steps=[StepRecord("build", "ok", 1.5, "logs/cp312-x/build.log")])],
        )
        store.save(record)
    assert store.load("latest").id == "20260102-000000-bbbb"
    assert store.load("20260101").targets[0].steps[0].seconds == 1.5
    with pytest.raises(WheelworksError, match="2 builds matching '2026'"):
        store.load("2026")
    with pytest.raises(WheelworksError, match="no build matching 'x'"):
        store.load("x")


def test_record_ids_are_unique_even_when_started_together(tmp_path):
    """300 ids claimed by 30 threads released at the same instant, all in the same second."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    store = Records(tmp_path)
    start = threading.Barrier(30)

    def claim(_: int) -> list[str]:
        start.wait()
        return [store.new_id() for _ in range(10)]

    with ThreadPoolExecutor(30) as pool:
        ids = [i for batch in pool.map(claim, range(30)) for i in batch]
    assert len(set(ids)) == 300 and all(store.folder(i).is_dir() for i in ids)


def test_latest_is_the_build_started_last_even_within_a_second(tmp_path):
    store = Records(tmp_path)
    ids = []
    for _ in range(5):
        ids.append(store.new_id())
        store.save(BuildRecord(id=ids[-1], project="p", repo=".", ref="main", config="c", config_digest="d",
                               platform="x", started=0.0))
    assert store.ids() == ids and store.load("latest").id == ids[-1]
