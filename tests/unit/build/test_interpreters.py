"""Finding CPythons."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from wheelworks.build import interpreters
from wheelworks.config.settings import from_environment


BASE = Path(sys.base_prefix) / "bin" / ("python%d.%d" % sys.version_info[:2])  # the tests' venv was made from it


def test_listed_interpreters_come_first(monkeypatch):
    monkeypatch.setenv("WHEELWORKS_PYTHONS", str(BASE))
    version = "%d.%d" % sys.version_info[:2]
    found = interpreters.discover([version], [], from_environment(os.environ), "linux")
    assert found[version].path == BASE
    assert interpreters.probe(Path("/no/such/python")) is None


def test_a_venvs_python_is_never_a_build_interpreter(tmp_path):
    """Its path is the venv's and its packages are not a build's (on CI: wheelworks' own)."""
    venv = tmp_path / "venv"
    subprocess.run([str(BASE), "-m", "venv", "--without-pip", str(venv)], check=True)
    assert sys.prefix != sys.base_prefix and interpreters.probe(Path(sys.executable)) is None
    assert interpreters.probe(venv / "bin" / "python") is None
    assert interpreters.probe(BASE) is not None
