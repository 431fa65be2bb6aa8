"""ccache hits for projects whose build requirements bring headers (numpy): the build
environment has a stable path, so an unchanged rebuild from an empty work tree hits."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from tests.fixtures import FIXTURES, git_repo
from wheelworks import cli
from wheelworks.build import tools
from wheelworks.build.records import Records

pytestmark = pytest.mark.slow


@pytest.mark.skipif(tools.find("ccache", {"PATH": ""}) is None and shutil.which("ccache") is None,
                    reason="ccache is not installed (wheelworks[fast] brings it)")
def test_a_numpy_extension_rebuilt_unchanged_hits_for_every_compile(pythons, tmp_path):
    repo = git_repo(FIXTURES / "npyext", tmp_path / "npyext")
    config = tmp_path / "wheelworks.toml"
    python = next(v for v in reversed(pythons) if int(v.split(".")[1]) >= 10)
    config.write_text(textwrap.dedent(f"""
        [project]
        name = "npyext"
        repo = "{repo}"
        build-commit = "main"
        [build]
        python = ["{python}"]
        [test]
        requires = ["numpy>=2"]
        command = "python -c 'import numpy, npyext; assert npyext.total(numpy.arange(4.0)) == 6.0'"
    """))
    args = ["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]
    assert cli.main(args) == 0
    assert cli.main([*args, "--rebuild"]) == 0  # the same source, a new work tree, an unchanged build environment
    builds = Records(tmp_path / "builds")
    cold, warm = (builds.load(i) for i in builds.ids())
    assert cold.targets[0].ccache == {"hits": 0, "misses": 1}
    assert warm.targets[0].ccache == {"hits": 1, "misses": 0}
    log = (builds.folder(warm.id) / warm.targets[0].steps[0].log).read_text()
    assert "/buildenvs/" in log and "numpy" in log  # numpy's headers come from the cached environment
