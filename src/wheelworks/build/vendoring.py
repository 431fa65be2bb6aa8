"""Proof that a wheel carries its own copies of the recipe libraries it needs.

After a target's test, its extension modules are imported in the test venv and the
process's memory map (/proc/self/maps) lists every shared object it loaded. What the wheel
needs is the closure of the DT_NEEDED entries of its own ELF files (extension modules and
vendored libraries), each resolved to the loaded object whose SONAME it names, as the
dynamic loader did. A recipe library in that closure (libtally.so.1, or auditwheel's
libtally-1a2b3c4d.so.1.2.3) must resolve into the installed wheel's ``<package>.libs``: a
copy elsewhere (/usr/lib, an RPATH into the build prefix) fails the target, naming the
wheel's file that needs it, though the import worked. Libraries the interpreter or other
packages load (tkinter's Tk loading the host's libfreetype) are not the wheel's business.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from wheelworks.shared.errors import CommandError, StepError
from wheelworks.shared.run import run

_PROBE = """
import importlib, importlib.metadata, json, sys
dist = importlib.metadata.distribution(sys.argv[1])
modules, files = [], []
for file in dist.files or []:
    path = file.as_posix()
    if ".so" in path.rsplit("/", 1)[-1] and not path.startswith(".."):
        files.append(str(dist.locate_file(file)))
        if path.endswith(".so") and ".libs/" not in path:
            modules.append(path.rsplit(".so", 1)[0].split(".", 1)[0].replace("/", "."))
for module in modules:
    importlib.import_module(module)
loaded = set()
with open("/proc/self/maps") as maps:
    for line in maps:
        fields = line.split(None, 5)
        if len(fields) == 6 and ".so" in fields[5]:
            loaded.add(fields[5].strip())
print(json.dumps({"modules": modules, "files": sorted(files), "loaded": sorted(loaded),
                  "site": str(dist.locate_file(""))}))
"""

Dynamic = Callable[[str], tuple[str | None, list[str]]]  # a path -> (its SONAME, its DT_NEEDED)


@dataclass(frozen=True)
class Need:
    """One DT_NEEDED entry of a file in the wheel's closure, and what the loader chose."""

    file: str  # the ELF file that needs it
    name: str  # the name it asks for
    resolved: str | None  # the loaded object of that SONAME; None if none was loaded


@dataclass(frozen=True)
class Vendoring:
    modules: tuple[str, ...]  # the extension modules imported
    vendored: tuple[str, ...]  # recipe libraries the wheel needs, resolved inside it (anything else fails the check)
    system: tuple[str, ...] = ()  # recipe libraries the policy leaves to the host (libz.so.1): its copy runs


def system_libraries() -> frozenset[str]:
    """The sonames auditwheel's policies count as part of every system (libz.so.1, libc.so.6):
    it never vendors them, so a recipe of one is built for nothing unless built static."""
    from importlib import resources

    names: set[str] = set()
    for policy_file in ("manylinux-policy.json", "musllinux-policy.json"):
        try:
            policies = json.loads(resources.files("auditwheel.policy").joinpath(policy_file).read_text())
        except (ModuleNotFoundError, OSError, ValueError):
            continue
        names.update(name for policy in policies for name in policy.get("lib_whitelist", []))
    return frozenset(names)


SHARED = re.compile(r"\.(so|dylib|dll)(\.|$)")


@dataclass(frozen=True)
class HostLibrary:
    """A library the repair grafted from the host, built by no recipe."""

    soname: str
    path: str | None  # where the host has it
    package: str | None  # the Debian or RPM package that owns it

    def describe(self) -> str:
        return f"{self.soname} ({self.path or 'path unknown'}{', package ' + self.package if self.package else ''})"


def shared_objects(prefixes: Iterable[Path]) -> Iterator[Path]:
    """The shared objects the recipes installed into their prefixes (DLLs go to bin/)."""
    for prefix in prefixes:
        for folder in (prefix / "lib", prefix / "lib64", prefix / "bin"):
            yield from (p for p in folder.iterdir() if SHARED.search(p.name)) if folder.is_dir() else []


def library_stem(name: str) -> str:
    """A library's name without version or a repair tool's hash: libtally for
    libtally.so.1.2.3, libtally-1a2b3c4d.so.1 (auditwheel), libtally.1.dylib (delocate keeps
    names) and tally-<32 hex>.dll (delvewheel)."""
    base = SHARED.split(name, maxsplit=1)[0]
    if ".dylib" in name:
        base = re.sub(r"(\.\d+)+$", "", base)
    return re.sub(r"-([0-9a-f]{8}|[0-9a-f]{32})$", "", base)


def library_stems(prefixes: Iterable[Path]) -> set[str]:
    """The names of the shared libraries the recipes installed: libtally for libtally.so.1.2.3."""
    return {library_stem(path.name) for path in shared_objects(prefixes)}


def needs(wheel_files: Sequence[str], loaded: Sequence[str], dynamic: Dynamic) -> list[Need]:
    """The closure of what the wheel's own ELF files need, resolved against what was loaded;
    it is followed through the wheel's files only (a host library's needs are the host's)."""
    by_soname: dict[str, str] = {}
    for path in loaded:
        soname = dynamic(path)[0] or PurePosixPath(path).name
        by_soname.setdefault(soname, path)
    own = set(wheel_files)
    found, queue, seen = [], list(wheel_files), set(wheel_files)
    while queue:
        file = queue.pop(0)
        for name in dynamic(file)[1]:
            resolved = by_soname.get(name)
            found.append(Need(file, name, resolved))
            if resolved in own and resolved not in seen:
                seen.add(resolved)
                queue.append(resolved)
    return found


def judge(found: Sequence[Need], site: str, stems: Iterable[str]) -> tuple[list[str], list[Need]]:
    """(vendored paths, foreign needs): the needs of recipe libraries, by where they resolved.
    Vendored paths come once each, in the order they were first needed."""
    pattern = re.compile("^(" + "|".join(re.escape(s) for s in sorted(stems)) + r")(-[0-9a-f]{8})?\.so") if stems else None
    vendored: list[str] = []
    foreign: list[Need] = []
    for need in found:
        if pattern is None or not pattern.match(need.name) or need.resolved is None:
            continue
        inside = need.resolved.startswith(site.rstrip("/") + "/") and PurePosixPath(need.resolved).parent.name.endswith(".libs")
        if not inside:
            foreign.append(need)
        elif need.resolved not in vendored:
            vendored.append(need.resolved)
    return vendored, foreign


def recipe_build_ids(prefixes: Iterable[Path]) -> dict[str, set[str]]:
    """Per library stem, the GNU build ids of the shared objects the recipes built."""
    ids: dict[str, set[str]] = {}
    for path in shared_objects(prefixes):
        found = build_id(str(path))
        if found:
            ids.setdefault(library_stem(path.name), set()).add(found)
    return ids


def build_id(path: str) -> str | None:
    """An ELF file's GNU build id (what patchelf and auditwheel leave as it was), or None."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import NoteSection

    try:
        with open(path, "rb") as stream:
            for section in ELFFile(stream).iter_sections():
                if isinstance(section, NoteSection):
                    for note in section.iter_notes():
                        if note["n_type"] == "NT_GNU_BUILD_ID":
                            return str(note["n_desc"])
    except (OSError, ELFError):
        return None
    return None


def impostors(vendored: Sequence[str], ids: dict[str, set[str]]) -> list[str]:
    """The vendored copies of recipe libraries that are not the recipes' builds (auditwheel
    grafted the host's copy of the same soname): their build ids are none a recipe made."""
    wrong = []
    for path in vendored:
        stem = library_stem(PurePosixPath(path).name)
        if stem in ids and build_id(path) not in ids[stem]:
            wrong.append(path)
    return wrong


def host_libraries(wheel: Path, stems: Iterable[str]) -> list[HostLibrary]:
    """The libraries the repair grafted into ``wheel`` that no recipe built: each as its
    soname, with the host's path and package where the host can tell (ldconfig, dpkg or rpm)."""
    import zipfile

    recipe = set(stems)
    with zipfile.ZipFile(wheel) as zf:
        grafted = [PurePosixPath(n).name for n in zf.namelist() if PurePosixPath(n).parent.name.endswith(".libs")]
    sonames = sorted({re.sub(r"-[0-9a-f]{8}(\.so)", r"\1", name) for name in grafted})
    found = []
    for soname in (s for s in sonames if library_stem(s) not in recipe):
        path = _ldconfig().get(soname)
        package = _package_of(path) if path else None
        found.append(HostLibrary(soname, path, package))
    return found


def _ldconfig() -> dict[str, str]:
    """soname (and real file name) -> path, as the loader's cache lists them (the first listed wins)."""
    try:
        out = run(["ldconfig", "-p"], log=None)
    except CommandError:
        return {}
    found: dict[str, str] = {}
    for soname, path in re.findall(r"^\s*(\S+) \([^)]*\) => (\S+)$", out, re.MULTILINE):
        found.setdefault(soname, path)
        found.setdefault(Path(path).resolve().name, path)  # auditwheel names a graft after the real file
    return found


def _package_of(path: str) -> str | None:
    """The Debian or RPM package that owns ``path`` (or the file it links to), when the host has dpkg or rpm."""
    for candidate in dict.fromkeys([path, str(Path(path).resolve())]):
        for cmd in (["dpkg", "-S", candidate], ["rpm", "-qf", "--qf", "%{NAME}", candidate]):
            try:
                out = run(cmd, log=None).strip()
            except CommandError:
                continue
            return out.split(":", 1)[0] if cmd[0] == "dpkg" else out
    return None


def elf_dynamic(path: str) -> tuple[str | None, list[str]]:
    """An ELF file's SONAME and DT_NEEDED entries; (None, []) for anything else."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as stream:
            soname, needed = None, []
            for section in ELFFile(stream).iter_sections():
                if isinstance(section, DynamicSection):
                    for tag in section.iter_tags():
                        named: Any = tag  # pyelftools sets .needed and .soname per tag kind
                        if tag.entry.d_tag == "DT_NEEDED":
                            needed.append(str(named.needed))
                        elif tag.entry.d_tag == "DT_SONAME":
                            soname = str(named.soname)
            return soname, needed
    except (OSError, ELFError):
        return None, []


def check(python: Path, distribution: str, prefixes: Sequence[Path], log: Path) -> Vendoring:
    """Import ``distribution``'s extension modules with ``python`` (the test venv's) and
    fail if a recipe library the wheel needs came from outside it, or is a copy that the
    recipes (their libraries in ``prefixes``) did not build."""
    stems = library_stems(prefixes)
    try:
        report = json.loads(run([python, "-c", _PROBE, distribution], log=log, capture=True).splitlines()[-1])
    except (CommandError, ValueError, IndexError) as exc:
        raise StepError(f"cannot tell where {distribution}'s libraries load from: {exc}") from None
    site = report["site"]
    vendored, outside = judge(needs(report["files"], report["loaded"], elf_dynamic), site, stems)
    policy = system_libraries()
    system = sorted({need.name for need in outside if need.name in policy})
    foreign = [need for need in outside if need.name not in policy]
    with log.open("a", encoding="utf-8") as stream:
        for path in vendored:
            stream.write(f"vendored: {path}\n")
        for name in system:
            stream.write(f"HOST COPY: {name} is a recipe library the manylinux policy counts as the system's, so the "
                         "wheel uses the host's copy at run time; build the recipe static (with -fPIC) to carry it\n")
        for need in foreign:
            stream.write(f"NOT VENDORED: {_short(need.file, site)} needs {need.name}, "
                         f"which resolved to {need.resolved}, outside the wheel\n")
    if foreign:
        need = foreign[0]
        raise StepError(f"{_short(need.file, site)} of {distribution} needs {need.name}, which resolved to "
                        f"{need.resolved}, outside the wheel",
                        "the repair did not vendor it (repair-exclude, or an RPATH); see this test log")
    wrong = impostors(vendored, recipe_build_ids(prefixes))
    if wrong:
        with log.open("a", encoding="utf-8") as stream:
            stream.writelines(f"NOT THE RECIPE'S: {path} has a build id no recipe made\n" for path in wrong)
        raise StepError(f"{_short(wrong[0], site)} in {distribution} is not the recipe's build of that library "
                        "(the repair grafted another copy of the same soname)",
                        "the extension linked the host's copy: check -L and RPATH flags in [build] environment")
    return Vendoring(tuple(report["modules"]), tuple(vendored), tuple(system))


def _short(path: str, site: str) -> str:
    return path.removeprefix(site.rstrip("/") + "/")


def symbol_versions(path: str) -> dict[str, set[str]]:
    """The versions an ELF file's undefined dynamic symbols ask for (GLIBC_2.34), each with
    its symbols; {} for a file that is not ELF."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection, GNUVerSymSection
    from elftools.elf.sections import SymbolTableSection

    try:
        with open(path, "rb") as stream:
            elf = ELFFile(stream)
            need = next((s for s in elf.iter_sections() if isinstance(s, GNUVerNeedSection)), None)
            versym = next((s for s in elf.iter_sections() if isinstance(s, GNUVerSymSection)), None)
            dynsym = elf.get_section_by_name(".dynsym")
            if need is None or versym is None or not isinstance(dynsym, SymbolTableSection):
                return {}
            names = {aux["vna_other"]: aux.name for _, auxes in need.iter_versions() for aux in auxes}
            found: dict[str, set[str]] = {}
            for index, symbol in enumerate(dynsym.iter_symbols()):
                version = names.get(versym.get_symbol(index)["ndx"])
                if version and symbol["st_shndx"] == "SHN_UNDEF" and symbol.name:
                    found.setdefault(version, set()).add(symbol.name)
            return found
    except (OSError, ELFError):
        return {}
