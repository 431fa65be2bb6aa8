"""What is inside a repaired wheel, as a CycloneDX 1.6 SBOM (PEP 770: ``.dist-info/sboms/``).

The repair tools copy libraries into the wheel (auditwheel into ``<name>.libs/``, delocate
into ``<package>/.dylibs/``, delvewheel into ``<name>.libs/``); what they copied is what the
repaired wheel has and the built wheel had not. Each such file is a recipe's library when
its name's stem is one a recipe installed, else the host's. auditwheel writes its own SBOM
for host libraries a package manager knows; its components are taken into this one, which
replaces it, so a wheel has one SBOM.

Written with cyclonedx-python-lib (it validates against the schema it emits, and keeps up
with the spec). The same inputs give the same bytes: the time is the build commit's, and
the serial number is derived from the content.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.utils import parse_wheel_filename

from wheelworks.build.vendoring import SHARED, HostLibrary, library_stem
from wheelworks.shared.hashes import stream_sha256
from wheelworks.shared.paths import is_url

SBOM_NAME = "wheelworks.cdx.json"
AUDITWHEEL_SBOM = "auditwheel.cdx.json"


@dataclass(frozen=True)
class RecipeSource:
    """What the SBOM says of one recipe: where its source came from and which libraries it installed."""

    name: str
    version: str
    url: str | None  # None: a path recipe
    sha256: str  # the tarball's, or the path recipe's source digest
    license: str | None
    stems: frozenset[str]  # library_stem of each shared library it installed


@dataclass(frozen=True)
class Vendored:
    member: str  # the file inside the wheel
    sha256: str


@dataclass(frozen=True)
class Provenance:
    """Where the wheel came from: the project at its commit, and what made it."""

    repo: str
    commit: str | None
    epoch: int
    compilers: tuple[tuple[str, str], ...]  # (name, version) of the C and C++ compilers
    repair_tool: tuple[str, str] | None  # (name, version); None for a pure wheel
    wheelworks: str  # its version


def grafted(built: Path, repaired: Path) -> list[Vendored]:
    """The libraries the repair copied in: members of ``repaired`` that ``built`` lacks."""
    with zipfile.ZipFile(built) as zf:
        before = set(zf.namelist())
    found = []
    with zipfile.ZipFile(repaired) as zf:
        for info in zf.infolist():
            name = info.filename
            if name in before or info.is_dir() or ".dist-info/" in name or not SHARED.search(PurePosixPath(name).name):
                continue
            with zf.open(info) as data:
                found.append(Vendored(name, stream_sha256(data)))
    return sorted(found, key=lambda v: v.member)


def auditwheel_sbom(wheel: Path) -> tuple[str, dict[str, Any]] | None:
    """auditwheel's own SBOM in ``wheel`` (its member name and its data), if it wrote one."""
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.endswith(f".dist-info/sboms/{AUDITWHEEL_SBOM}"):
                return name, json.loads(zf.read(name))
    return None


def member_name(wheel_name: str) -> str:
    """Where PEP 770 puts a wheel's SBOM: its .dist-info folder's sboms/."""
    return f"{wheel_name.split('-')[0]}-{parse_wheel_filename(wheel_name)[1]}.dist-info/sboms/{SBOM_NAME}"


def compilers_of(toolchain: str) -> tuple[tuple[str, str], ...]:
    """(name, version) of the C and C++ compilers a library build's toolchain id names."""
    found = []
    for command, path, version in json.loads(toolchain)[2]:
        number = re.search(r"\d+\.\d+(\.\d+)?", version.splitlines()[0] if version else "")
        found.append((Path(path).name if path else command, number.group(0) if number else "unknown"))
    return tuple(found)


def document(wheel_name: str, provenance: Provenance, recipes: Sequence[RecipeSource], vendored: Sequence[Vendored],
             host: Sequence[HostLibrary], auditwheel: Mapping[str, Any] | None = None) -> bytes:
    """The SBOM of ``wheel_name``, as CycloneDX 1.6 JSON bytes."""
    from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.license import LicenseExpression
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    name, version, _, tags = parse_wheel_filename(wheel_name)
    root = Component(
        type=ComponentType.LIBRARY, name=str(name), version=str(version), bom_ref=f"pkg:pypi/{name}@{version}",
        purl=PackageURL("pypi", name=str(name), version=str(version), qualifiers={"file_name": wheel_name}),
        external_references=[ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(_vcs(provenance)))],
    )
    tools = [Component(type=ComponentType.APPLICATION, name="wheelworks", version=provenance.wheelworks)]
    tools += [Component(type=ComponentType.APPLICATION, name=n, version=v) for n, v in provenance.compilers]
    if provenance.repair_tool:
        tools.append(Component(type=ComponentType.APPLICATION, name=provenance.repair_tool[0],
                               version=provenance.repair_tool[1]))
    policy = Property(name="wheelworks:platform-tags", value=" ".join(sorted({t.platform for t in tags})))
    metadata = BomMetaData(component=root, timestamp=datetime.fromtimestamp(provenance.epoch, timezone.utc),
                           properties=[policy])
    for tool in tools:
        metadata.tools.components.add(tool)

    def files(of: Sequence[Vendored]) -> list[Property]:
        return [Property(name="wheelworks:file", value=f"{v.member} sha256:{v.sha256}") for v in of]

    components = []
    by_stem = {stem: recipe for recipe in recipes for stem in recipe.stems}
    mine: dict[str, list[Vendored]] = {}
    theirs: list[Vendored] = []
    for file in vendored:
        recipe = by_stem.get(library_stem(PurePosixPath(file.member).name))
        if recipe:
            mine.setdefault(recipe.name, []).append(file)
        else:
            theirs.append(file)
    for recipe in recipes:
        if recipe.name not in mine:
            continue  # linked statically, or not needed by this wheel: nothing of it was copied in
        source = HashType(alg=HashAlgorithm.SHA_256, content=recipe.sha256)
        qualifiers = {"checksum": f"sha256:{recipe.sha256}", **({"download_url": recipe.url} if recipe.url else {})}
        components.append(Component(
            type=ComponentType.LIBRARY, name=recipe.name, version=recipe.version, bom_ref=f"recipe:{recipe.name}",
            purl=PackageURL("generic", name=recipe.name, version=recipe.version, qualifiers=qualifiers),
            licenses=[LicenseExpression(recipe.license)] if recipe.license else [],
            external_references=[ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(recipe.url),
                                                   hashes=[source])] if recipe.url else [],
            properties=[Property(name="wheelworks:origin", value="recipe"), *files(mine[recipe.name]),
                        *([] if recipe.url else [Property(name="wheelworks:source-digest", value=recipe.sha256)])],
        ))
    known = _auditwheel_components(auditwheel)
    by_soname = {library_stem(h.soname): h for h in host}
    for file in theirs:
        stem = library_stem(PurePosixPath(file.member).name)
        entry = by_soname.get(stem)
        found = _take(known, entry) if entry else None
        properties = [Property(name="wheelworks:origin", value="host"), *files([file])]
        if entry and entry.path:
            properties.append(Property(name="wheelworks:host-path", value=entry.path))
        if entry and entry.package:
            properties.append(Property(name="wheelworks:host-package", value=entry.package))
        components.append(Component(
            type=ComponentType.LIBRARY, name=found["name"] if found else (entry.package if entry and entry.package
                                                                          else stem),
            version=found.get("version") if found else None, bom_ref=f"host:{PurePosixPath(file.member).name}",
            purl=PackageURL.from_string(found["purl"]) if found and found.get("purl") else None,
            properties=properties,
        ))
    for left in known.values():  # what auditwheel knew that no grafted file matched: kept, not lost
        components.append(Component(type=ComponentType.LIBRARY, name=left["name"], version=left.get("version"),
                                    bom_ref=f"auditwheel:{left.get('purl') or left['name']}",
                                    purl=PackageURL.from_string(left["purl"]) if left.get("purl") else None))
    content = json.dumps([wheel_name, _vcs(provenance), [c.bom_ref.value for c in components],
                          [v.sha256 for v in vendored]])
    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL, content), metadata=metadata)
    for component in components:
        bom.components.add(component)
    bom.register_dependency(root, components)
    return (JsonV1Dot6(bom).output_as_string(indent=2) + "\n").encode()


def components_of(sbom: bytes) -> list[str]:
    """One line per component of an SBOM this module wrote: for the record and the dashboard."""
    data = json.loads(sbom)
    lines = []
    for component in data.get("components", []):
        props = {p["name"]: p["value"] for p in component.get("properties", [])}
        origin = props.get("wheelworks:origin", "auditwheel")
        files = [p["value"].split(" ", 1)[0] for p in component.get("properties", []) if p["name"] == "wheelworks:file"]
        lines.append(" ".join(filter(None, [component["name"], component.get("version"), f"({origin})", *files])))
    return lines


def _vcs(provenance: Provenance) -> str:
    repo = provenance.repo if is_url(provenance.repo) else Path(provenance.repo).resolve().as_uri()
    return f"git+{repo}@{provenance.commit}" if provenance.commit else repo


def _take(known: dict[str, dict[str, Any]], entry: HostLibrary) -> dict[str, Any] | None:
    """auditwheel's component for a host library, removed from ``known``: by the path it
    hashed (the soname's link, or the file it points to), else by the package's name."""
    paths = [entry.path, os.path.realpath(entry.path)] if entry.path else []
    for key in (hashlib.sha256(p.encode()).hexdigest() for p in paths):
        if key in known:
            return known.pop(key)
    for key, component in known.items():
        if entry.package and component.get("name") == entry.package:
            return known.pop(key)
    return None


def _auditwheel_components(sbom: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """auditwheel's components, by the sha256 of the host path its bom-ref ends with."""
    if not sbom:
        return {}
    root = sbom.get("metadata", {}).get("component", {}).get("bom-ref")
    found = {}
    for component in sbom.get("components", []):
        ref = str(component.get("bom-ref", ""))
        if ref != root and "name" in component:
            found[ref.rsplit("#", 1)[-1]] = component
    return found
