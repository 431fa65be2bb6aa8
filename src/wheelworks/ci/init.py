"""``wheelworks init PROJECT``: a wheels repository for a project, in one command.

It reads the project at its build commit (a path, or a git URL through the cache's mirror):
its name, whether its build files ask for the limited API, and its ``[tool.cibuildwheel]``,
carried over by ``config/cibuildwheel.py``. It writes ``wheelworks.toml`` and a
``.gitignore``; the matrix is left to requires-python unless cibuildwheel's ``build``
narrowed it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wheelworks.build import abi
from wheelworks.build.source import default_branch, pyproject, read_file, resolve
from wheelworks.config import cibuildwheel
from wheelworks.config.model import CONFIG_NAME, ProjectConfig, ci_resources
from wheelworks.config.pythons import known
from wheelworks.config.settings import Settings
from wheelworks.shared import atomic
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import ConfigError
from wheelworks.shared.paths import is_remote

GITIGNORE = """\
# What wheelworks writes beside its config: build records and logs, tested wheels, the
# default folder containers and the dashboard. The config, .github/ and .wheelworks/ are
# the wheels repository itself: commit them.
builds/
wheelhouse/
containers/
report/
"""


@dataclass(frozen=True)
class Adopted:
    config: Path
    written: tuple[Path, ...]
    notes: tuple[str, ...]  # the project's settings init did not carry, a line each


def init(project: str, folder: Path, settings: Settings, log: Path, *, name: str | None = None,
         subdir: str = "", build_commit: str | None = None) -> Adopted:
    """Write a wheels repository for ``project`` (a path or git URL) into ``folder``; it
    builds ``build_commit``, by default the branch the repository's HEAD names (whose
    builds the nightly container takes)."""
    config = folder / CONFIG_NAME
    if config.exists():
        raise ConfigError(f"{config}: exists already", "init makes a new wheels repository: use an empty folder or --output")
    repo = project if is_remote(project) else str(Path(project).expanduser().resolve())
    build_commit = build_commit or default_branch(repo, log, settings.env) or "HEAD"
    found = ProjectConfig(name=name or "project", repo=repo, build_commit=build_commit, subdir=subdir)
    revision = resolve(found, Cache(settings.cache_dir), log, settings.env)
    data = pyproject(found, revision, log, settings.env)
    named = name or data.get("project", {}).get("name")
    if not isinstance(named, str):
        raise ConfigError(f"{project}: its pyproject.toml has no [project] name", "give it: wheelworks init --name NAME")
    files = [read_file(found, revision, f, log, settings.env) or "" for f in abi.LIMITED_API_FILES]
    table = data.get("tool", {}).get("cibuildwheel")
    versions = [v.version + suffix for v in known() for suffix in ("", "t") if not suffix or v.free_threaded]
    platforms = {name_: spec["tag"] for name_, spec in ci_resources()["platforms"].items()}
    carried = cibuildwheel.carry(table, versions, platforms, subdir) if isinstance(table, Mapping) else cibuildwheel.Carried()
    if abi.mentions_limited_api(files):
        carried.build["abi3"] = True
    text = render(named, repo, build_commit, subdir, carried, bool(table))
    atomic.write_text(config, text)
    ignore = folder / ".gitignore"
    written = [config]
    if not ignore.exists():
        atomic.write_text(ignore, GITIGNORE)
        written.append(ignore)
    return Adopted(config, tuple(written), tuple(carried.notes))


def render(name: str, repo: str, build_commit: str, subdir: str, carried: cibuildwheel.Carried,
           from_cibuildwheel: bool) -> str:
    """wheelworks.toml's text: the project, then what was carried, each section once."""
    lines = ["# A wheels repository made by `wheelworks init`" + (", its settings carried over from the "
             "project's [tool.cibuildwheel]" if from_cibuildwheel else "") + ".",
             "", "[project]", *_pairs({"name": name, "repo": repo, "build-commit": build_commit,
                                       **({"subdir": subdir} if subdir else {})})]
    for section, values in (("build", carried.build), ("test", carried.test), ("ci", carried.ci)):
        if values:
            lines += ["", f"[{section}]", *_pairs(values)]
    for library in carried.libraries:
        lines += ["", "[[library]]", *_pairs(library)]
    return "\n".join(lines) + "\n"


def _pairs(values: Mapping[str, Any]) -> list[str]:
    return [f"{_key(k)} = {_value(v)}" for k, v in values.items()]


def _key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else json.dumps(key)


def _value(value: Any) -> str:
    """A TOML value: JSON's strings, numbers and arrays are TOML's; tables are inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # TOML takes UTF-8, but not JSON's surrogate pairs
