"""The test venv's environment."""

from __future__ import annotations

from pathlib import Path

from wheelworks.build.test import clean_environment

PREFIX = Path("/p")


def test_clean_environment_hides_prefixes():
    env = clean_environment(
        {"PATH": "/p/bin:/usr/bin:/p", "LD_LIBRARY_PATH": "/p/lib", "CPATH": "/p/include", "HOME": "/h"}, [PREFIX]
    )
    assert env == {"PATH": "/usr/bin", "HOME": "/h"}
