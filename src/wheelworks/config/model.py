"""wheelworks.toml -> one frozen Config: defaults, then the file, then a build commit the caller was given.

Every key is checked against a schema, so a typo is an error naming the key rather than
a setting silently ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from wheelworks.config.names import (
    cron_problem,
    matches,
    project_problem,
    ref_problem,
    relative_problem,
    repo_problem,
    secret_problem,
)
from wheelworks.config.pins import INSTALL_HINT, install_kind, pin_problem
from wheelworks.config.policy import Policy, image_family
from wheelworks.config.policy import parse as parse_policy
from wheelworks.config.policy import problem as policy_problem
from wheelworks.config.pythons import ENABLE
from wheelworks.config.recipes import LibraryRecipe, recipes
from wheelworks.config.schema import check_keys, check_table, require, schema_of, strs
from wheelworks.shared.compat import tomllib
from wheelworks.shared.errors import ConfigError
from wheelworks.shared.hashes import digest
from wheelworks.shared.paths import is_remote, is_url

CONFIG_NAME = "wheelworks.toml"
FRONTENDS = ("build", "build[uv]", "uv")
TOOLCHAINS = ("native", "zig")
DEFAULT_IMAGE = "manylinux_2_28"  # CI's image when no policy is asked for

@dataclass(frozen=True, kw_only=True)
class ProjectConfig:
    name: str
    repo: str  # a git URL, or an absolute path to a git repository, folder or sdist
    build_commit: str
    subdir: str = ""


@dataclass(frozen=True, kw_only=True)
class BuildConfig:
    python: tuple[str, ...] | None = None  # "3.12", "3.14t"; None: the default matrix (pythons.py)
    enable: tuple[str, ...]  # "prerelease", "free-threaded"
    abi3: bool | None = None  # one limited-API wheel for all; None: found out from the first wheel
    repair_exclude: tuple[str, ...] = ()  # libraries the repair must not vendor (another wheel provides them)
    skip: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    config_settings: Mapping[str, str] = field(default_factory=dict)  # to the backend (build -C, uv --config-setting)
    # Credential-like variables the build, its hooks and its tests may still see (masking.without_credentials)
    pass_environment: tuple[str, ...] = ()
    before_build: str | None = None
    missing_python: str  # error | warn
    interpreters: tuple[str, ...] = ()
    frontend: str  # build | build[uv] | uv
    ccache: bool  # use ccache when the machine has it
    requires_max_age: int  # hours before build-system.requires are resolved again (build.Frontend.requires)
    manylinux: str | None = None  # the policy every Linux wheel meets (manylinux_2_17); None: the lowest it can
    toolchain: str = "native"  # native | zig (C and C++ for the policy's glibc, on any Linux machine)

    @property
    def policy(self) -> Policy | None:
        return parse_policy(self.manylinux) if self.manylinux else None


@dataclass(frozen=True, kw_only=True)
class TestConfig:
    requires: tuple[str, ...] = ()
    command: str | None = None


@dataclass(frozen=True, kw_only=True)
class ContainerConfig:
    name: str = field(metadata={"toml": False})  # the table's name, [containers.NAME]
    url: str  # a folder (absolute), file:// or s3:// URL
    branches: tuple[str, ...] = ()
    keep: int | None = None  # newest versions kept per project; None keeps all
    endpoint: str | None = None
    # Where anyone reads the container (a CDN, a bucket's website): CI's build jobs look
    # there, without secrets, for wheels they need not build again.
    public_url: str | None = None
    stale_after: int | None = None  # days without a new build before `wheelworks status` fails
    # S3 credentials, usually wwenc: tokens; without them boto3 finds its own.
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class CIConfig:
    platforms: tuple[str, ...]  # keys of resources/ci.toml [platforms]
    schedule: str  # cron, for nightly builds
    manylinux: str = field(metadata={"toml": False})  # the image family Linux jobs build in, from [build] manylinux
    manylinux_tag: str
    install: str  # how runners get wheelworks: "" bundles the running one; else a pinned requirement (pins.install_kind)
    pins: Mapping[str, str] = field(default_factory=dict)  # action -> "<sha> # <tag>"
    release_upload: str  # trusted-publishing | token
    pypi_token_secret: str
    secrets: tuple[str, ...]  # repository secrets the publish job sees
    test_on: tuple[str, ...] = ()  # runner labels or container images that test the wheels before publishing


@dataclass(frozen=True, kw_only=True)
class Config:
    path: Path
    project: ProjectConfig
    build: BuildConfig
    libraries: tuple[LibraryRecipe, ...]  # in build order: dependencies first
    test: TestConfig
    containers: tuple[ContainerConfig, ...]
    ci: CIConfig
    digest: str  # sha256 of the effective settings, recorded with every build
    hints: tuple[str, ...] = ()  # said once when the config is used (a [tool.cibuildwheel] beside it)

    @property
    def root(self) -> Path:
        return self.path.parent


_SCHEMA: dict[str, dict[str, str]] = {
    "project": schema_of(ProjectConfig),
    "build": schema_of(BuildConfig),
    "library": schema_of(LibraryRecipe),
    "test": schema_of(TestConfig),
    "container": schema_of(ContainerConfig),
    "ci": schema_of(CIConfig),
}
_TOP_LEVEL = {"project": "table", "build": "table", "library": "tables", "test": "table", "containers": "tables",
              "ci": "table"}


def find_config(start: Path) -> Path:
    for candidate in (start / CONFIG_NAME, start / "pyproject.toml"):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no {CONFIG_NAME} or pyproject.toml in {start}", "pass --config PATH")


def load(path: Path, build_commit: tuple[str, str] | None = None) -> Config:
    path = path.resolve()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file", f"pass --config {path / CONFIG_NAME}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r})",
                          "TOML files are UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None
    data = document
    if path.name == "pyproject.toml":
        tool = document.get("tool", {})
        tool = tool if isinstance(tool, dict) else {}  # a `tool` that is no table holds no wheelworks table
        table = tool.get("wheelworks")
        if table is None:
            hint = "; run `wheelworks init .` to carry over its [tool.cibuildwheel]" if "cibuildwheel" in tool else ""
            raise ConfigError(f"{path}: no [tool.wheelworks] table{hint}")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: tool.wheelworks must be a table ([tool.wheelworks]), not {table!r}")
        data = table
        # A project's own pyproject builds itself unless told otherwise.
        data = {"project": {"repo": ".", **_pyproject_name(document)}, **data}
        if "cibuildwheel" in tool:
            hint = (f"{path.name} has a [tool.cibuildwheel] table too, which wheelworks does not read: "
                    "`wheelworks init .` carries it over, naming what it cannot")
            return replace(_resolve(path, data, build_commit), hints=(hint,))
    return _resolve(path, data, build_commit)


def _pyproject_name(document: Mapping[str, Any]) -> dict[str, str]:
    project = document.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return {"name": name} if isinstance(name, str) else {}


def _defaults() -> dict[str, Any]:
    text = resources.files("wheelworks").joinpath("resources/defaults.toml").read_text()
    return tomllib.loads(text)


def _resolve(path: Path, data: Mapping[str, Any], build_commit: tuple[str, str] | None) -> Config:
    where = path.name
    check_keys(data, _TOP_LEVEL, where)
    defaults = _defaults()
    project = {**defaults["project"], **_table(data, "project", where)}
    build = {**defaults["build"], **_table(data, "build", where)}
    test = _table(data, "test", where)
    raw_libraries = data.get("library", [])
    if not isinstance(raw_libraries, list) or not all(isinstance(t, dict) for t in raw_libraries):
        raise ConfigError(f"{where}: 'library' must be an array of tables ([[library]])")
    libraries = [_checked(t, "library", f"{where}: library[{i}]") for i, t in enumerate(raw_libraries)]
    for key in ("name", "repo"):
        require(project, key, f"{where}: [project]")
    commit_from = f"{where}: [project] build-commit"
    if build_commit:
        project["build-commit"], commit_from = build_commit
    _check_project(project, commit_from, f"{where}: [project]")
    containers = _containers(data.get("containers", defaults["containers"]), path, where)
    old = data.get("ci", {}).get("manylinux") if isinstance(data.get("ci"), dict) else None
    if old is not None:  # the image family it used to be is now the policy, which CI follows
        raise ConfigError(f"{where}: [ci] manylinux is now [build] manylinux: the policy every Linux wheel meets, "
                          "here and on CI (whose image follows it)", f"move it: [build] manylinux = {old!r}")
    ci = _ci({**defaults["ci"], **_table(data, "ci", where)}, build.get("manylinux"), where)
    effective = {"project": project, "build": build, "library": libraries, "test": test}
    return Config(
        path=path,
        project=ProjectConfig(
            name=project["name"],
            repo=_location(project["repo"], path.parent),
            build_commit=project["build-commit"],
            subdir=project.get("subdir", ""),
        ),
        build=_build_config(build, where),
        libraries=recipes(libraries, path.parent, where),
        test=TestConfig(requires=strs(test.get("requires")), command=test.get("command")),
        containers=containers,
        ci=ci,
        digest=digest(effective),
    )


def _check_project(project: Mapping[str, Any], commit_from: str, where: str) -> None:
    """The values of [project] that reach git and paths, checked before they do."""
    for problem, what, value, hint in (
        (project_problem, f"{where} name", project["name"], "it goes into file names, URLs and workflows as it is"),
        (ref_problem, commit_from, project["build-commit"], "give a branch, tag or commit hash"),
        (repo_problem, f"{where} repo", project["repo"], "give a git URL or a path"),
        (relative_problem, f"{where} subdir", project.get("subdir", ""), "give a folder of the repository"),
    ):
        if isinstance(value, str) and (why := problem(value)):
            raise ConfigError(f"{what} = {value!r} {why}", hint)


def _table(data: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: '{name}' must be a table ([{name}])")
    return _checked(table, name, f"{where}: [{name}]")


def _checked(table: Mapping[str, Any], schema: str, where: str) -> dict[str, Any]:
    return check_table(table, _SCHEMA[schema], where)


def _location(value: str, base: Path) -> str:
    """URLs (and scp-style git@host:path) stay as given; paths become absolute."""
    if is_remote(value):
        return value
    return str((base / Path(value).expanduser()).resolve())


def _build_config(build: dict[str, Any], where: str) -> BuildConfig:
    for version in build.get("python", ()):
        if not re.fullmatch(r"3\.\d+t?", version):
            raise ConfigError(
                f"{where}: [build] python: '{version}' is not a CPython version", "write e.g. '3.12', or '3.14t'"
            )
    for group in build["enable"]:
        if group not in ENABLE:
            raise ConfigError(f"{where}: [build] enable: unknown {group!r}", f"known: {', '.join(ENABLE)}")
    if build["missing-python"] not in ("error", "warn"):
        raise ConfigError(
            f"{where}: [build] missing-python must be 'error' or 'warn', not {build['missing-python']!r}"
        )
    if "manylinux" in build and (why := policy_problem(build["manylinux"])):
        raise ConfigError(f"{where}: [build] manylinux = {build['manylinux']!r} {why}")
    if build["toolchain"] not in TOOLCHAINS:
        raise ConfigError(f"{where}: [build] toolchain must be one of {', '.join(TOOLCHAINS)}, not {build['toolchain']!r}")
    if build["frontend"] not in FRONTENDS:
        raise ConfigError(
            f"{where}: [build] frontend must be one of {', '.join(FRONTENDS)}, not {build['frontend']!r}"
        )
    return BuildConfig(
        frontend=build["frontend"],
        ccache=build["ccache"],
        requires_max_age=build["requires-max-age"],
        python=tuple(build["python"]) if "python" in build else None,
        enable=tuple(build["enable"]),
        abi3=build.get("abi3"),
        repair_exclude=strs(build.get("repair-exclude")),
        skip=strs(build.get("skip")),
        environment=build.get("environment", {}),
        config_settings={k: str(v) for k, v in build.get("config-settings", {}).items()},
        pass_environment=strs(build.get("pass-environment")),
        before_build=build.get("before-build"),
        missing_python=build["missing-python"],
        interpreters=strs(build.get("interpreters")),
        manylinux=_policy_name(build["manylinux"]) if "manylinux" in build else None,
        toolchain=build["toolchain"],
    )


def _policy_name(value: str) -> str:
    parsed = parse_policy(value)
    assert parsed is not None  # checked by the caller
    return parsed.name


def _containers(tables: Any, path: Path, where: str) -> tuple[ContainerConfig, ...]:
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise ConfigError(f"{where}: 'containers' must hold tables ([containers.NAME])")
    containers = []
    for name, table in tables.items():
        here = f"{where}: [containers.{name}]"
        table = _checked(table, "container", here)
        require(table, "url", here)
        url = table["url"]
        containers.append(
            ContainerConfig(
                name=name,
                url=url if is_url(url) else str((path.parent / url).resolve()),
                branches=strs(table.get("branches")),
                keep=table.get("keep"),
                endpoint=table.get("endpoint"),
                public_url=_public_url(table.get("public-url"), here),
                stale_after=table.get("stale-after"),
                access_key_id=table.get("access-key-id"),
                secret_access_key=table.get("secret-access-key"),
            )
        )
    return tuple(containers)


def _public_url(url: str | None, where: str) -> str | None:
    if url is None:
        return None
    if urlparse(url).scheme not in ("http", "https", "file"):
        raise ConfigError(f"{where}: public-url = {url!r} is not an http(s) or file URL",
                          "give the address users install from, e.g. https://example.org/nightly/")
    return url if url.endswith("/") else url + "/"


def _ci(table: dict[str, Any], policy: str | None, where: str) -> CIConfig:
    parsed = parse_policy(policy) if policy else None
    family = image_family(parsed) if parsed else DEFAULT_IMAGE
    if family is None:
        raise ConfigError(f"{where}: [build] manylinux = {policy!r}: no manylinux image builds for it on CI",
                          "use manylinux_2_17 (manylinux2014) or newer")
    table = {**table, "manylinux": family}
    ci_data = ci_resources()
    known = ci_data["platforms"]
    for name in table["platforms"]:
        if name not in known:
            raise ConfigError(f"{where}: [ci] platforms: unknown platform {name!r}", f"known: {', '.join(known)}")
    if install_kind(table["install"]) is None:
        raise ConfigError(f"{where}: [ci] install = {table['install']!r} does not pin wheelworks", INSTALL_HINT)
    if table["release-upload"] not in ("trusted-publishing", "token"):
        raise ConfigError(f"{where}: [ci] release-upload must be 'trusted-publishing' or 'token'")
    if not table["platforms"]:
        raise ConfigError(f"{where}: [ci] platforms is empty", f"name at least one of {', '.join(known)}")
    if why := cron_problem(table["schedule"]):
        raise ConfigError(f"{where}: [ci] schedule = {table['schedule']!r} {why}", "e.g. \"0 3 * * *\", daily at 03:00 UTC")
    for what, name in [*(("secrets", n) for n in table["secrets"]), ("pypi-token-secret", table["pypi-token-secret"])]:
        if why := secret_problem(name):
            raise ConfigError(f"{where}: [ci] {what}: {name!r} {why}")
    images = [ci_data["platforms"][n]["image"].format(manylinux=table["manylinux"])
              for n in table["platforms"] if "image" in ci_data["platforms"][n]]
    unpinned = [i for i in images if i not in ci_data["images"]]
    if unpinned and not table.get("manylinux-tag"):  # a pull by tag alone could be any image
        policies = sorted({i.rsplit("/", 1)[-1].rsplit("_", 1)[0] for i in ci_data["images"]})
        raise ConfigError(f"{where}: [build] manylinux = {policy!r}: no pinned image {unpinned[0]}",
                          f"use one of {', '.join(policies)}, or set [ci] manylinux-tag")
    for name, pin in table.get("pins", {}).items():
        problem = pin_problem(name, pin)
        if problem:
            raise ConfigError(f"{where}: [ci] pins: {name} = {pin!r} {problem}")
    return CIConfig(
        platforms=tuple(table["platforms"]),
        schedule=table["schedule"],
        manylinux=table["manylinux"],
        manylinux_tag=table.get("manylinux-tag") or ci_data["manylinux-tag"],
        install=table["install"],
        pins=table.get("pins", {}),
        release_upload=table["release-upload"],
        pypi_token_secret=table["pypi-token-secret"],
        secrets=tuple(table["secrets"]),
        test_on=tuple(table.get("test-on", ())),
    )


@functools.cache
def ci_resources() -> dict[str, Any]:
    """resources/ci.toml, read once; callers must not change it."""
    return tomllib.loads(resources.files("wheelworks").joinpath("resources/ci.toml").read_text())


def with_build_commit(config: Config, ref: str, where: str) -> Config:
    """``config`` building ``ref`` instead, which ``where`` (a flag, say) gave."""
    if why := ref_problem(ref):
        raise ConfigError(f"{where} {ref!r} {why}", "give a branch, tag or commit hash")
    return replace(config, project=replace(config.project, build_commit=ref))


def container_for(config: Config, ref: str) -> ContainerConfig:
    """The container whose branch rules match ``ref`` (the first, in config order)."""
    for container in config.containers:
        if matches(ref, container.branches):
            return container
    rules = "; ".join(f"{c.name}: {', '.join(c.branches) or '-'}" for c in config.containers)
    raise ConfigError(f"{config.path.name}: no container takes builds of '{ref}' ({rules})",
                      "add the branch to a container's branches, or pass --container")


def named_container(config: Config, name: str) -> ContainerConfig:
    """A container of the config by name, or one given directly by URL or folder."""
    for container in config.containers:
        if container.name == name:
            return container
    if is_url(name) or "/" in name:
        return ContainerConfig(name=name, url=name if is_url(name) else str(Path(name).resolve()))
    known = ", ".join(c.name for c in config.containers)
    raise ConfigError(f"{config.path.name}: no container named '{name}'", f"known: {known}; or give a URL")
