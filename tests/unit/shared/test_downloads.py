"""A download takes its name only once its sha256 is the one promised."""

import hashlib

import pytest

from wheelworks.shared.downloads import save_verified, url_chunks
from wheelworks.shared.errors import HashMismatch


def test_verified_bytes_take_their_name_and_others_leave_nothing(tmp_path):
    data = [b"wheel ", b"bytes"]
    good = hashlib.sha256(b"".join(data)).hexdigest()
    save_verified(iter(data), tmp_path / "w.whl", good, "w.whl")
    assert (tmp_path / "w.whl").read_bytes() == b"wheel bytes"
    with pytest.raises(HashMismatch) as error:
        save_verified(iter([b"other"]), tmp_path / "v.whl", good, "v.whl")
    assert error.value.actual == hashlib.sha256(b"other").hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.whl"]


def test_a_file_url_streams_and_a_missing_one_is_an_os_error(tmp_path):
    (tmp_path / "f").write_bytes(b"x" * 10)
    assert b"".join(url_chunks((tmp_path / "f").as_uri())) == b"x" * 10
    with pytest.raises(OSError, match="cannot download"):
        list(url_chunks((tmp_path / "absent").as_uri()))
