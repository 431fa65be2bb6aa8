"""Where signatures go, and which index shows an upload."""

from __future__ import annotations


def test_signatures_go_only_to_indexes_that_take_them():
    from wheelworks.release.upload import accepts_signatures, simple_index

    assert not accepts_signatures("https://upload.pypi.org/legacy/")
    assert not accepts_signatures("https://test.pypi.org/legacy/")
    assert accepts_signatures("http://127.0.0.1:8080/")
    assert simple_index("https://upload.pypi.org/legacy/") == "https://pypi.org/simple/"
    assert simple_index("https://test.pypi.org/legacy/") == "https://test.pypi.org/simple/"
    assert simple_index("http://127.0.0.1:8080") == "http://127.0.0.1:8080/simple/"
