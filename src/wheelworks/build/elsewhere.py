"""Wheels tested on a machine other than the one that built them (``[ci] test-on``): an
older runner with its system Python, a slim container. What pip picks there for the
project is installed in a fresh venv and the config's test command runs on it, with the
project's source at the build's commit when the command names ``{project}``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from wheelworks.build import source, test
from wheelworks.build.records import Records
from wheelworks.config.model import Config
from wheelworks.config.settings import Settings
from wheelworks.shared import platforms
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import StepError
from wheelworks.shared.phases import Phases


def test_elsewhere(config: Config, wheelhouse: Path, interpreter: Path, settings: Settings, log: Path) -> str:
    """Test the wheel of ``wheelhouse`` that fits ``interpreter``; returns its name."""
    os_name = platforms.native().os
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    with tempfile.TemporaryDirectory(prefix="wheelworks-test-") as tmp:
        work = Path(tmp)
        wheel = test.fitting_wheel(interpreter, wheelhouse, config.project.name, work, settings.env, log, os_name)
        tree = work
        if config.test.command and "{project}" in config.test.command:
            tree = _source_of(config, wheelhouse, wheel.name, settings, work / "source", log)
        (work / "run").mkdir()
        test.run_tests(interpreter, wheel, config.test, work / "run", tree, [], settings.env, log, os_name, Phases())
    return wheel.name


def _source_of(config: Config, wheelhouse: Path, wheel: str, settings: Settings, dest: Path, log: Path) -> Path:
    """The project's source at the commit of the build that delivered ``wheel`` (its
    record travels beside the wheelhouse, in builds/)."""
    records = Records(wheelhouse.parent / "builds").delivering({wheel})
    if not records:
        raise StepError(f"{wheel}: no build record beside {wheelhouse} says which commit it was built from",
                        "pass the build job's whole artifact (wheelhouse/ and builds/)")
    cache = Cache(settings.cache_dir)
    revision = source.resolve(config.project, cache, log, settings.env, records[-1].commit)
    return source.checkout(config.project, revision, cache, dest, log, settings.env).tree
