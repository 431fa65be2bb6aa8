"""Which record made a wheel, and which of its members differ from a rebuild."""

import zipfile

from wheelworks.release.verify import differences, origin_of

WHEEL = "pytally-0.1.0-cp312-cp312-manylinux_2_17_x86_64.whl"


def _record(build, sha, commit="c" * 40, status="ok", built_by=None):
    return {"id": build, "commit": commit, "config_digest": "d" * 64, "targets": [
        {"identifier": "cp312-manylinux_x86_64", "wheel": WHEEL, "sha256": sha, "status": status, "built_by": built_by}]}


def test_the_record_with_the_wheel_s_bytes_wins_else_the_newest_by_name():
    records = [_record("20261201-a", "1" * 64), _record("20261202-b", "2" * 64)]
    assert origin_of(WHEEL, "1" * 64, records).build == "20261201-a"
    changed = origin_of(WHEEL, "f" * 64, records)
    assert changed.build == "20261202-b" and not changed.same_bytes
    assert origin_of(WHEEL, "1" * 64, [_record("x", "1" * 64, status="failed")]) is None
    assert origin_of(WHEEL, "1" * 64, [_record("x", "1" * 64, commit=None)]) is None  # a folder build: no commit
    assert origin_of(WHEEL, "1" * 64, [_record("x", "1" * 64, built_by="cp39-manylinux_x86_64")]).identifier == \
        "cp39-manylinux_x86_64"  # an abi3 wheel is rebuilt by the target that built it


def test_differences_name_changed_added_and_missing_members(tmp_path):
    def wheel(name, files):
        with zipfile.ZipFile(tmp_path / name, "w") as zf:
            for member, data in files.items():
                zf.writestr(member, data)
        return tmp_path / name

    a = wheel("a.whl", {"p/__init__.py": b"x", "p/core.so": b"1", "p/old.py": b""})
    b = wheel("b.whl", {"p/__init__.py": b"x", "p/core.so": b"2", "p/new.py": b""})
    assert differences(a, b) == ["p/core.so", "p/new.py", "p/old.py"]
    assert differences(a, a) == []
