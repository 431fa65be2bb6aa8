"""A project's ``[tool.cibuildwheel]`` carried over to wheelworks.toml sections (``init``).

cibuildwheel and wheelworks name targets alike (``cp312-manylinux_x86_64``), so its
``build`` and ``skip`` selectors keep their meaning: ``build`` becomes the CPythons it
matches (``[build] python``) and the CI platforms whose targets it matches; ``skip`` is
kept as it is. Settings with a wheelworks equivalent are carried; every other one gets one
line saying so, never silence.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wheelworks.config.names import matches
from wheelworks.config.policy import parse as parse_policy

# cibuildwheel's words -> wheelworks' [build] enable
ENABLE = {"cpython-prerelease": "prerelease", "cpython-freethreading": "free-threaded"}
FRONTENDS = {"build": "build", "build[uv]": "build[uv]", "uv": "uv", "default": "build[uv]", "pip": "build"}
# cibuildwheel archs per CI platform of resources/ci.toml
ARCHS = {"linux-x86_64": "x86_64", "linux-aarch64": "aarch64", "macos-arm64": "arm64", "macos-x86_64": "x86_64",
         "windows-AMD64": "AMD64", "windows-ARM64": "ARM64"}
OS_OF = {"linux": "linux", "macos": "macos", "windows": "windows"}
SAME_AS_DEFAULT = {"build": "*", "skip": "", "test-skip": "", "archs": ["auto"], "build-frontend": "default",
                   "dependency-versions": "pinned", "build-verbosity": 0, "container-engine": "docker"}


@dataclass
class Carried:
    build: dict[str, Any] = field(default_factory=dict)  # [build] keys
    test: dict[str, Any] = field(default_factory=dict)  # [test] keys
    ci: dict[str, Any] = field(default_factory=dict)  # [ci] keys
    libraries: list[dict[str, Any]] = field(default_factory=list)  # [[library]] tables
    notes: list[str] = field(default_factory=list)  # one line per setting that was not carried (init says so)


def selectors(value: Any) -> list[str]:
    """cibuildwheel's selector value: a space-separated string or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [part for item in items for part in str(item).split()]


def carry(table: Mapping[str, Any], versions: Sequence[str], platforms: Mapping[str, str],
          subdir: str = "") -> Carried:
    """What wheelworks makes of ``table`` ([tool.cibuildwheel]); ``versions`` are the
    CPythons wheelworks knows ("3.12", "3.14t"), ``platforms`` the CI platforms and their
    target tags (resources/ci.toml)."""
    out = Carried()
    build, skip = selectors(table.get("build", "*")), selectors(table.get("skip", ""))
    # Free-threaded builds as cibuildwheel 3 makes them: 3.14t and later, 3.13t when enabled.
    threads = "cpython-freethreading" in selectors(table.get("enable", []))
    versions = [v for v in versions if not v.endswith("t") or threads or tuple(map(int, v[:-1].split("."))) >= (3, 14)]

    def selected(identifier: str) -> bool:
        return matches(identifier, build) and not matches(identifier, skip)

    if build != ["*"]:
        chosen = [v for v in versions
                  if any(selected(f"cp{v.replace('.', '')}-{tag}") for tag in platforms.values())]
        out.build["python"] = chosen
        if not chosen:
            out.notes.append(f"build = {table['build']!r} selects no CPython wheelworks knows; [build] python is empty")
    if skip:
        out.build["skip"] = skip
    archs = _archs(table, out)

    def arch_asked(name: str) -> bool:  # auto: each CI runner builds its own arch
        os_name = name.split("-")[0]
        return archs is None or os_name not in archs or ARCHS.get(name, "") in archs[os_name].split()

    wanted = [name for name, tag in platforms.items()
              if any(selected(f"cp{v.replace('.', '')}-{tag}") for v in versions) and arch_asked(name)]
    if wanted and wanted != ["linux-x86_64"]:
        out.ci["platforms"] = wanted
    if any(tag.startswith("manylinux") for tag in platforms.values()) and not matches("cp312-musllinux_x86_64", skip) \
            and matches("cp312-musllinux_x86_64", build):
        out.notes.append("cibuildwheel also builds musllinux wheels: wheelworks builds them on a musl machine only")
    _general(table, out, subdir)
    for os_name in ("linux", "macos", "windows"):
        section = table.get(os_name)
        if isinstance(section, Mapping):
            for key in section:
                if key != "archs":
                    out.notes.append(f"[tool.cibuildwheel.{os_name}] {key} (wheelworks has one setting "
                                     "for every platform); set it in wheelworks.toml if it applies everywhere")
    for index, override in enumerate(table.get("overrides", []) or []):
        select = override.get("select", "?") if isinstance(override, Mapping) else "?"
        out.notes.append(f"[[tool.cibuildwheel.overrides]] {index} (select = {select!r}): "
                         "wheelworks has no per-target settings")
    return out


def _archs(table: Mapping[str, Any], out: Carried) -> dict[str, str] | None:
    """The archs asked for per OS ("x86_64 aarch64"), or None for cibuildwheel's auto."""
    found: dict[str, str] = {}
    for os_name in ("linux", "macos", "windows"):
        section = table.get(os_name)
        value = section.get("archs") if isinstance(section, Mapping) else None
        value = value if value is not None else table.get("archs")
        if value is not None and selectors(value) not in (["auto"], ["native"]):
            found[os_name] = " ".join(selectors(value))
    for os_name, value in found.items():
        if "universal2" in value or "auto64" in value or "all" in value:
            out.notes.append(f"archs = {value!r} ({os_name}): wheelworks builds one wheel per CI platform; check [ci] platforms")
    return found or None


def _general(table: Mapping[str, Any], out: Carried, subdir: str) -> None:
    for group in selectors(table.get("enable", [])):
        if group in ENABLE:
            out.build.setdefault("enable", []).append(ENABLE[group])
        else:
            out.notes.append(f"enable = {group!r} (wheelworks builds CPython only)")
    environment = table.get("environment", {})
    if isinstance(environment, str):  # cibuildwheel's string form: A=1 B="two words"
        environment = dict(item.split("=", 1) for item in shlex.split(environment) if "=" in item)
    if environment:
        out.build["environment"] = {k: str(v) for k, v in environment.items()}
    if table.get("before-build"):
        out.build["before-build"] = _placeholders(table["before-build"], subdir, here=".")
    if table.get("config-settings"):
        settings = table["config-settings"]
        out.build["config-settings"] = {k: " ".join(v) if isinstance(v, list) else str(v) for k, v in settings.items()}
    frontend = table.get("build-frontend")
    if isinstance(frontend, Mapping):
        frontend = frontend.get("name")
    if frontend and frontend != "default":
        name = str(frontend).split(";")[0].strip()
        if name in FRONTENDS:
            out.build["frontend"] = FRONTENDS[name]
            if name == "pip":
                out.notes.append("build-frontend = 'pip': wheelworks uses pypa/build (\"build\"), which runs pip")
        else:
            out.notes.append(f"build-frontend = {frontend!r}: wheelworks knows build, build[uv] and uv")
    if table.get("before-all"):
        out.libraries.append({"name": "before-all", "version": "0", "system": "script", "path": ".",
                              "script": _placeholders(table["before-all"], "", here=".")})
        out.notes.append("before-all became the script recipe [[library]] 'before-all': it must install what it "
                         "builds into $PREFIX (system packages a container would install are the machine's to have)")
    for key in ("manylinux-x86_64-image", "manylinux-aarch64-image"):
        image = table.get(key)
        policy = parse_policy(str(image)) if image else None
        if policy and "manylinux" not in out.build:
            out.build["manylinux"] = policy.name  # the image's family is the policy its wheels meet
        elif image and not policy:
            out.notes.append(f"{key} = {image!r} is an image, not a policy; set [build] manylinux")
    requires = table.get("test-requires")
    if requires:
        out.test["requires"] = requires.split() if isinstance(requires, str) else list(requires)
    if table.get("test-command"):
        command = table["test-command"]
        command = " && ".join(command) if isinstance(command, list) else str(command)
        sources = table.get("test-sources")
        if sources:  # paths in the checkout, which cibuildwheel copies into the test's folder
            copies = " ".join(shlex.quote("{project}/" + s) for s in selectors(sources))
            command = f"cp -r {copies} . && {command}"
        out.test["command"] = _placeholders(command, subdir, here="{project}")
    if table.get("test-extras"):
        out.notes.append(f"test-extras = {table['test-extras']!r}: list them in [test] requires")
    for key, value in table.items():
        if key in _CARRIED or key in ("linux", "macos", "windows", "overrides"):
            continue
        if SAME_AS_DEFAULT.get(key) == value:
            continue
        out.notes.append(f"{key} = {value!r} (no wheelworks equivalent)")


_CARRIED = {"build", "skip", "archs", "enable", "environment", "before-build", "config-settings", "build-frontend",
            "before-all", "manylinux-x86_64-image", "manylinux-aarch64-image", "test-requires", "test-command",
            "test-sources", "test-extras"}


def _placeholders(command: Any, subdir: str, here: str) -> str:
    """cibuildwheel's {project} (the checkout) and {package} (the package's folder in it,
    ``subdir``) as paths from ``here``, the package's folder as the command sees it: "."
    for before-build (it runs there), "{project}" for the test command (wheelworks'
    {project} is the package's source tree)."""
    text = " && ".join(command) if isinstance(command, list) else str(command)
    up = "/".join([".."] * len([p for p in subdir.split("/") if p]))
    root = f"{here}/{up}" if up else here
    return text.replace("{project}", "\0ROOT\0").replace("{package}", here).replace("\0ROOT\0", root)
