"""Values that reach git, paths and generated files: what each check lets through."""

from __future__ import annotations

import pytest

from wheelworks.config.names import component_problem, ref_problem, relative_problem, repo_problem, secret_problem


@pytest.mark.parametrize("ref", ["main", "HEAD", "v1.2.3", "release/1.x", "refs/heads/main", "0" * 40, "a1b2c3d",
                                 "feature-x_y+z"])
def test_refs_git_accepts(ref):
    assert ref_problem(ref) is None


@pytest.mark.parametrize("ref", [
    "", "-x", "--upload-pack=touch X;git-upload-pack", "--output=/tmp/x", "main..other", "a b", "a\tb", "a\nb",
    "x~1", "x^{tree}", "x:y", "x?", "x*", "x[", "back\\slash", "x@{1}", "/main", "main/", "x.lock", ".hidden",
    "a/.b", "a//b", "@", "main.", "\x7f",
])
def test_refs_that_are_options_or_not_refs(ref):
    assert ref_problem(ref) is not None


@pytest.mark.parametrize("repo", ["https://github.com/scikit-image/scikit-image.git", "git@github.com:o/r.git",
                                  "/srv/git/project", "file:///srv/git/project"])
def test_repositories(repo):
    assert repo_problem(repo) is None


@pytest.mark.parametrize("repo", ["", "--upload-pack=touch X;x://", "-u", "ext::sh -c touch% X", "EXT::sh",
                                  "fd::0", "https://x/\nrepo"])
def test_repositories_that_run_commands_or_are_options(repo):
    assert repo_problem(repo) is not None


@pytest.mark.parametrize("name", ["libtally", "zlib-ng", "libjpeg_turbo", "lib.x", "c++abi", "20261201-214624488176-b57b"])
def test_path_components(name):
    assert component_problem(name) is None


@pytest.mark.parametrize("name", ["", ".", "..", "../../x", "a/b", "a\\b", "-x", ".hidden", "x.", "a b", "é", "x\0"])
def test_names_that_leave_their_folder(name):
    assert component_problem(name) is not None


@pytest.mark.parametrize(("path", "ok"), [("", True), ("python", True), ("a/b/c", True), ("../x", False),
                                          ("a/../../b", False), ("/abs", False), ("C:/x", False), ("a\\..\\b", False)])
def test_subdirs(path, ok):
    assert (relative_problem(path) is None) == ok


@pytest.mark.parametrize(("name", "ok"), [("PYPI_API_TOKEN", True), ("_X1", True), ("1X", False), ("A-B", False),
                                          ("X }}\n  run: evil", False), ("GITHUB_TOKEN", False), ("", False)])
def test_secret_names(name, ok):
    assert (secret_problem(name) is None) == ok
