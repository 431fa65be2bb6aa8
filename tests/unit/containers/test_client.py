"""Where a listing's links may point: inside the container the page belongs to, only."""

import pytest

from wheelworks.containers.client import container_root, inside
from wheelworks.shared.errors import ReleaseError

PAGE = "https://wheels.example.org/nightly/simple/pytally/"
ROOT = "https://wheels.example.org/nightly/"


@pytest.mark.parametrize(("page", "root"), [
    (PAGE, ROOT),
    ("https://wheels.example.org/nightly/simple/", ROOT),
    ("https://wheels.example.org/nightly/index.html", ROOT),  # a plain listing: its folder
    ("file:///srv/c/simple/x/", "file:///srv/c/"),
])
def test_the_container_is_what_precedes_simple_or_the_page_s_folder(page, root):
    assert container_root(page) == root


@pytest.mark.parametrize(("href", "url"), [
    ("../../files/ab/pytally-1.0-py3-none-any.whl#sha256=00", f"{ROOT}files/ab/pytally-1.0-py3-none-any.whl"),
    ("/nightly/files/x.whl", f"{ROOT}files/x.whl"),
    (f"{ROOT}files/x.whl", f"{ROOT}files/x.whl"),
])
def test_links_inside_the_container_resolve(href, url):
    assert inside(PAGE, href, ROOT) == url


@pytest.mark.parametrize("href", [
    "../../../elsewhere/x.whl",  # above the container
    "../../files/%2e%2e/%2e%2e/x.whl",  # the same, percent-encoded
    "../../files/..%2F..%2Fx.whl",  # an encoded slash
    "../../files/..\\..\\x.whl",  # a backslash, as Windows reads it
    "https://evil.example.org/nightly/files/x.whl",  # another host
    "http://wheels.example.org/nightly/files/x.whl",  # another scheme
    "//evil.example.org/nightly/x.whl",  # scheme-relative
    "/nightlyx/files/x.whl",  # a sibling whose name starts like the container's
    "../../files/x%00.whl",  # a NUL
    "file:///etc/passwd",
])
def test_links_that_leave_the_container_refuse_the_listing(href):
    with pytest.raises(ReleaseError, match="points outside the container"):
        inside(PAGE, href, ROOT)
