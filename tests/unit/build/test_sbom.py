"""The SBOM of a repaired wheel, from what each repair tool copied in."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from wheelworks.build.sbom import (HostLibrary, Provenance, RecipeSource, Vendored, components_of, document, grafted,
                                   library_stem)

PROVENANCE = Provenance(repo="https://github.com/example/pytally.git", commit="c" * 40, epoch=1_700_000_000,
                        compilers=(("gcc", "12.2.0"), ("g++", "12.2.0")), repair_tool=("auditwheel", "6.8.2"),
                        wheelworks="0.1.0")
ZLIB = RecipeSource("zlib", "1.3.1", "https://deb.debian.org/debian/pool/main/z/zlib/zlib_1.3.1.orig.tar.gz",
                    "a" * 64, "Zlib", frozenset({"libz"}))
TALLY = RecipeSource("libtally", "1.2.3", None, "b" * 64, None, frozenset({"libtally", "tally"}))


def _zip(folder: Path, tag: str, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"pytally-0.1.0-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


def _validate(data: bytes) -> dict:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode()) is None
    return json.loads(data)


@pytest.mark.parametrize(("name", "stem"), [
    ("libtally.so.1.2.3", "libtally"), ("libtally-1a2b3c4d.so.1", "libtally"), ("libtally.1.dylib", "libtally"),
    ("libtally.dylib", "libtally"), ("tally.dll", "tally"), ("tally-0123456789abcdef0123456789abcdef.dll", "tally"),
    ("libpng16-6b0d2a3f.so.16.43.0", "libpng16"), ("libfreetype.so.6", "libfreetype"),
])
def test_library_stems_across_the_three_repair_tools(name, stem):
    assert library_stem(name) == stem


# (layout the tool leaves, wheel tag): auditwheel, delocate, delvewheel
LAYOUTS = [
    ("pytally.libs/libtally-1a2b3c4d.so.1.2.3", "pytally.libs/libz-5e6f7a8b.so.1.3.1",
     "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"),
    ("pytally/.dylibs/libtally.1.dylib", "pytally/.dylibs/libz.1.dylib", "cp312-cp312-macosx_11_0_arm64"),
    ("pytally.libs/tally-0123456789abcdef0123456789abcdef.dll", "pytally.libs/libz-fedcba9876543210fedcba9876543210.dll",
     "cp312-cp312-win_amd64"),
]


@pytest.mark.parametrize(("tally", "zlib", "tag"), LAYOUTS)
def test_what_the_repair_copied_is_in_the_sbom_with_its_recipe(tmp_path, tally, zlib, tag):
    ext = {"pytally/_core.so": b"ELF ext", "pytally/__init__.py": b"", "pytally-0.1.0.dist-info/METADATA": b"x"}
    built = _zip(tmp_path / "built", tag, ext)
    repaired = _zip(tmp_path / "repaired", tag,
                    {**ext, tally: b"tally bytes", zlib: b"zlib bytes", "pytally.libs/README.txt": b"not a lib"})
    vendored = grafted(built, repaired)
    assert [v.member for v in vendored] == sorted([tally, zlib])
    data = _validate(document(repaired.name, PROVENANCE, [ZLIB, TALLY], vendored, []))
    by_name = {c["name"]: c for c in data["components"]}
    assert set(by_name) == {"zlib", "libtally"}
    files = {c["name"]: [p["value"] for p in c["properties"] if p["name"] == "wheelworks:file"] for c in data["components"]}
    import hashlib
    assert files["libtally"] == [f"{tally} sha256:{hashlib.sha256(b'tally bytes').hexdigest()}"]
    assert by_name["zlib"]["licenses"] == [{"expression": "Zlib"}]
    assert by_name["zlib"]["externalReferences"][0]["url"] == ZLIB.url
    assert by_name["zlib"]["externalReferences"][0]["hashes"][0]["content"] == "a" * 64
    assert "download_url" not in by_name["libtally"]["purl"] and "checksum=sha256:" + "b" * 64 in by_name["libtally"]["purl"]
    root = data["metadata"]["component"]
    assert root["purl"].startswith("pkg:pypi/pytally@0.1.0") and root["externalReferences"][0]["url"] == \
        f"git+https://github.com/example/pytally.git@{'c' * 40}"
    tools = {t["name"]: t["version"] for t in data["metadata"]["tools"]["components"]}
    assert tools["gcc"] == "12.2.0" and tools["wheelworks"] == "0.1.0"
    assert data["dependencies"][0]["dependsOn"] or any(d.get("dependsOn") for d in data["dependencies"])


def test_the_same_inputs_give_the_same_bytes_and_others_do_not(tmp_path):
    vendored = [Vendored("pytally.libs/libtally-1a2b3c4d.so.1", "d" * 64)]
    name = "pytally-0.1.0-cp312-cp312-manylinux_2_17_x86_64.whl"
    first = document(name, PROVENANCE, [TALLY], vendored, [])
    assert first == document(name, PROVENANCE, [TALLY], vendored, [])
    other = document(name, PROVENANCE, [TALLY], [Vendored(vendored[0].member, "e" * 64)], [])
    assert json.loads(first)["serialNumber"] != json.loads(other)["serialNumber"]
    assert json.loads(first)["metadata"]["timestamp"].startswith("2023-11-14")  # the commit's time, not now


def test_host_libraries_take_auditwheel_s_components_once(tmp_path):
    import hashlib

    path = "/usr/lib/x86_64-linux-gnu/libxcb.so.1.1.0"
    auditwheel = {"metadata": {"component": {"bom-ref": "pkg:pypi/pytally@0.1.0"}},
                  "components": [{"bom-ref": "pkg:pypi/pytally@0.1.0", "name": "pytally"},
                                 {"bom-ref": f"pkg:deb/debian/libxcb1@1.15-1?arch=amd64#{hashlib.sha256(path.encode()).hexdigest()}",
                                  "name": "libxcb1", "version": "1.15-1", "purl": "pkg:deb/debian/libxcb1@1.15-1?arch=amd64"},
                                 {"bom-ref": "pkg:deb/debian/libxau6@1:1.0.9-1#0", "name": "libxau6",
                                  "version": "1:1.0.9-1", "purl": "pkg:deb/debian/libxau6@1:1.0.9-1"}]}
    vendored = [Vendored("pytally.libs/libxcb-5e6f7a8b.so.1.1.0", "f" * 64)]
    host = [HostLibrary("libxcb.so.1", path, "libxcb1")]
    data = _validate(document("pytally-0.1.0-cp312-cp312-manylinux_2_36_x86_64.whl", PROVENANCE, [], vendored, host,
                              auditwheel))
    names = [c["name"] for c in data["components"]]
    assert sorted(names) == ["libxau6", "libxcb1"]  # merged by host path, the unmatched one kept, none twice
    xcb = next(c for c in data["components"] if c["name"] == "libxcb1")
    assert xcb["purl"] == "pkg:deb/debian/libxcb1@1.15-1?arch=amd64"
    props = {p["name"]: p["value"] for p in xcb["properties"]}
    assert props["wheelworks:origin"] == "host" and props["wheelworks:host-path"] == path
    # auditwheel hashed a path other than ldconfig's (a link's target): the package's name still matches.
    moved = document("pytally-0.1.0-cp312-cp312-manylinux_2_36_x86_64.whl", PROVENANCE, [], vendored,
                     [HostLibrary("libxcb.so.1", "/lib/x86_64-linux-gnu/libxcb.so.1", "libxcb1")], auditwheel)
    assert sorted(c["name"] for c in json.loads(moved)["components"]) == ["libxau6", "libxcb1"]
    assert sorted(components_of(json.dumps(data).encode())) == [
        "libxau6 1:1.0.9-1 (auditwheel)", "libxcb1 1.15-1 (host) pytally.libs/libxcb-5e6f7a8b.so.1.1.0"]
