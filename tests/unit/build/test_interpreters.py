"""Finding CPythons."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from wheelworks.build import interpreters
from wheelworks.config.settings import from_environment


def test_listed_interpreters_come_first(monkeypatch):
    monkeypatch.setenv("WHEELWORKS_PYTHONS", sys.executable)
    version = "%d.%d" % sys.version_info[:2]
    found = interpreters.discover([version], [], from_environment(os.environ), "linux")
    assert found[version].path == Path(sys.executable)
    assert interpreters.probe(Path("/no/such/python")) is None
