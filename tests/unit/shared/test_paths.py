"""Search-path variables, and what counts as a URL or a remote repository."""

import os

import pytest

from wheelworks.shared.paths import is_remote, is_url, prepend_path


def test_entries_go_first_and_the_base_is_kept_as_it_was():
    base = {"PATH": "/usr/bin", "HOME": "/h"}
    env = prepend_path(base, "PATH", ["/a", "/b"])
    assert env["PATH"] == os.pathsep.join(["/a", "/b", "/usr/bin"]) and base["PATH"] == "/usr/bin"
    assert prepend_path({}, "CPATH", ["/p/include"])["CPATH"] == "/p/include"  # no trailing separator


@pytest.mark.parametrize(("location", "url", "remote"), [
    ("https://github.com/x/y.git", True, True), ("s3://bucket/prefix", True, True), ("file:///srv/c", True, True),
    ("git@github.com:x/y.git", False, True), ("/srv/repo", False, False), ("relative/path", False, False),
    ("C:\\\\repo", False, False), ("./user@host:path", False, False),
])
def test_urls_and_remotes(location, url, remote):
    assert (is_url(location), is_remote(location)) == (url, remote)
