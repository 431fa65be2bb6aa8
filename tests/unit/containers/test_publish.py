"""Publishing's decisions: which claims pruning removes (per (Python, platform), counting
only versions whose publish completed), and what the container's dashboard reads."""

from wheelworks.containers import publish
from wheelworks.containers import RECORDS, open_store
from wheelworks.containers.index import IndexedFile
from wheelworks.containers.state import ContainerState, tags_of
from wheelworks.containers.publish import prune_set
from wheelworks.build.records import BuildRecord

LINUX, MAC = "manylinux_2_28_x86_64", "macosx_11_0_arm64"


def _wheel(version: str, python: str, platform: str) -> IndexedFile:
    name = f"pkg-{version}-{python}-{python}-{platform}.whl"
    return IndexedFile(filename=name, project="pkg", version=version, path=f"files/x/{name}", sha256="0" * 64,
                       size=1, requires_python=None, uploaded="2026-11-26T00:00:00Z")


def _complete(*files: IndexedFile) -> dict[tuple[str, str], frozenset]:
    return ContainerState((), {}, False).with_publish(files).complete


def _names(files) -> set[str]:
    return {f.version + " " + f.filename.split("-")[2] + " " + f.filename.split("-")[4][:5] for f in files}


def test_an_old_version_goes_once_a_newer_complete_one_serves_all_its_tags():
    old = [_wheel("1.0", "cp312", LINUX), _wheel("1.0", "cp313", LINUX)]
    new = [_wheel("2.0", "cp312", LINUX), _wheel("2.0", "cp313", LINUX)]
    assert _names(prune_set(old + new, _complete(*old, *new), keep=1)) == {"1.0 cp312 manyl", "1.0 cp313 manyl"}
    assert prune_set(old + new, _complete(*old, *new), keep=2) == []


def test_a_tag_only_the_old_version_serves_keeps_it():
    # 2.0 built only for Linux: the macOS wheel of 1.0 is still the only one there is
    old = [_wheel("1.0", "cp312", LINUX), _wheel("1.0", "cp312", MAC)]
    new = [_wheel("2.0", "cp312", LINUX)]
    assert prune_set(old + new, _complete(*old, *new), keep=1) == []


def test_an_incomplete_newer_version_protects_nothing():
    old = [_wheel("1.0", "cp312", LINUX)]
    half = [_wheel("2.0", "cp312", LINUX)]  # claimed, but its publish never finished
    assert prune_set(old + half, _complete(*old), keep=1) == []
    assert {f.version for f in prune_set(old + half, _complete(*old, *half), keep=1)} == {"1.0"}


def test_tags_of_reads_compressed_tag_sets():
    assert tags_of("pkg-1.0-cp312.cp313-abi3-manylinux_2_28_x86_64.manylinux2014_x86_64.whl") == {
        (py, plat) for py in ("cp312", "cp313") for plat in ("manylinux_2_28_x86_64", "manylinux2014_x86_64")
    }


def test_the_dashboard_reads_only_the_builds_it_shows(tmp_path, monkeypatch):
    store = open_store(str(tmp_path))
    ids = [f"20261126-0{hour}0000000000-abcd" for hour in range(5)]
    for hour, build_id in enumerate(ids):
        record = BuildRecord(id=build_id, project="pkg", repo="r", ref="main", config="c", config_digest="d",
                             platform="linux_x86_64", started=1_800_000_000 + hour, status="ok")
        store.put(f"{RECORDS}{build_id}/record.json", record.to_json().encode(), "application/json")
    read = []
    monkeypatch.setattr(publish, "DASHBOARD_BUILDS", 2)
    monkeypatch.setattr(type(store), "get", lambda self, key, get=type(store).get: read.append(key) or get(self, key))
    publish._write_dashboard(store, None)
    page = (tmp_path / RECORDS / "index.html").read_text()
    assert ids[-1] in page and ids[-2] in page and ids[0] not in page
    assert read == [f"{RECORDS}{i}/record.json" for i in ids[-2:]]
