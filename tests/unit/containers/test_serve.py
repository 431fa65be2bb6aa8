"""What a request path may name in a served container."""

import pytest

from wheelworks.containers.serve import key_of


@pytest.mark.parametrize(("path", "key"), [
    ("/", ""),
    ("/simple/pytally/", "simple/pytally"),
    ("/files/ab/x.whl?download=1", "files/ab/x.whl"),
    ("/simple//pytally/", "simple/pytally"),
    ("/files/a%20b.whl", "files/a b.whl"),
])
def test_plain_paths_name_their_key(path, key):
    assert key_of(path) == key


@pytest.mark.parametrize("path", [
    "/../etc/passwd", "/files/../../x", "/%2e%2e/x", "/files/%2e%2e/%2e%2e/x", "/./simple/", "/files\\..\\x",
    "/files/x%00.whl", "/files/..%2f..%2fx",
])
def test_paths_that_climb_or_smuggle_name_nothing(path):
    assert key_of(path) is None


def test_a_logged_path_cannot_carry_terminal_escapes():
    from wheelworks.containers.serve import printable

    assert printable("/simple/\x1b[2J\x07x/") == "/simple/\\x1b[2J\\x07x/"
    assert printable("/simple/pytally/") == "/simple/pytally/"
