"""The ABI a wheel claims, checked: limited API (abi3, audited with abi3audit),
free-threaded (cp3Xt) or the GIL build of one CPython."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.utils import parse_wheel_filename

from wheelworks.build import tools
from wheelworks.build.targets import Target
from wheelworks.shared.errors import CommandError, StepError
from wheelworks.shared.run import run

_LIMITED_API_MARKS = ("py_limited_api", "limited-api", "limited_api", "py-api")
LIMITED_API_FILES = ("setup.py", "setup.cfg", "pyproject.toml", "meson.build")


def asks_for_limited_api(tree: Path) -> bool:
    """Whether the build files mention the limited API (setuptools' py_limited_api,
    meson-python's limited-api, scikit-build-core's wheel.py-api)."""
    texts = []
    for name in LIMITED_API_FILES:
        path = tree / name
        try:
            texts.append(path.read_text(encoding="utf-8", errors="replace") if path.is_file() else "")
        except OSError:
            continue
    return mentions_limited_api(texts)


def mentions_limited_api(texts: Iterable[str]) -> bool:
    return any(mark in text for text in texts for mark in _LIMITED_API_MARKS)


def is_abi3(filename: str) -> bool:
    return any(tag.abi == "abi3" for tag in parse_wheel_filename(filename)[3])


def check(target: Target, filename: str) -> None:
    """A free-threaded target must give a free-threaded wheel (cp314t), and a GIL one must not."""
    tags = parse_wheel_filename(filename)[3]
    if all(tag.abi == "none" for tag in tags):
        return  # a pure wheel serves every CPython
    if target.free_threaded != any(tag.abi.endswith("t") for tag in tags):
        want = "a free-threaded (cp3Xt)" if target.free_threaded else "a GIL (not cp3Xt)"
        raise StepError(f"{target.identifier}: built {filename}, not {want} wheel",
                        "was the build run by the right interpreter?")


def audit(wheel: Path, env: Mapping[str, str], log: Path) -> None:
    """abi3audit's verdict on a limited-API wheel: a symbol outside the API it claims fails."""
    abi3audit = tools.find("abi3audit", env)
    if abi3audit is None:
        raise StepError("abi3audit is not installed", "pip install abi3audit (wheelworks depends on it)")
    try:
        run([abi3audit, "--strict", "--verbose", wheel], log=log, env=env)
    except CommandError as exc:
        raise StepError(f"abi3audit: {wheel.name} uses symbols outside its limited API", exc.last_line) from None
