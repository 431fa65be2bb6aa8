"""The SBOM in every repaired wheel, and `verify`, on real builds of the fixture."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import threading
import zipfile
from pathlib import Path

import pytest

from tests.fixtures import FIXTURES
from wheelworks import cli
from wheelworks.build.records import Records
from wheelworks.shared.hashes import tree_digest

pytestmark = pytest.mark.slow


def _validated(wheel: Path) -> tuple[dict, bytes]:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        sboms = [n for n in names if "/sboms/" in n]
        assert sboms == ["pytally-0.1.0.dist-info/sboms/wheelworks.cdx.json"]  # auditwheel's merged into it
        data = zf.read(sboms[0])
        record = {row[0]: row for row in csv.reader(io.StringIO(zf.read("pytally-0.1.0.dist-info/RECORD").decode()))}
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert record[sboms[0]][1:] == [f"sha256={digest}", str(len(data))]
        vendored = {n: hashlib.sha256(zf.read(n)).hexdigest() for n in names if n.startswith("pytally.libs/")}
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode()) is None
    sbom = json.loads(data)
    files = {p["value"].split(" sha256:")[0]: p["value"].split(" sha256:")[1]
             for c in sbom["components"] for p in c.get("properties", []) if p["name"] == "wheelworks:file"}
    assert files == vendored and vendored  # every vendored file, each with its bytes' hash
    return sbom, data


def _build(config: Path, cache_dir: Path, *extra: str) -> None:
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir), *extra]) == 0


def test_a_url_recipe_s_wheel_says_what_it_vendors_and_twice_the_same(make_config, cache_dir, pythons,
                                                                    libtally_tarball, pytally_repo):
    tarball, sha256 = libtally_tarball
    config = make_config(library=f"""
        [[library]]
        name = "libtally"
        version = "1.2.3"
        url = "{tarball.as_uri()}"
        sha256 = "{sha256}"
        system = "cmake"
        license = "MIT"
    """)
    only = f"cp{pythons[-1].replace('.', '')}-*"
    _build(config, cache_dir, "--only", only)
    record = Records(config.parent / "builds").load("latest")
    wheel = config.parent / "wheelhouse" / record.targets[0].wheel
    sbom, first = _validated(wheel)
    (tally,) = sbom["components"]
    assert (tally["name"], tally["version"], tally["licenses"]) == ("libtally", "1.2.3", [{"expression": "MIT"}])
    assert tally["externalReferences"] == [{"type": "distribution", "url": tarball.as_uri(),
                                            "hashes": [{"alg": "SHA-256", "content": sha256}]}]
    root = sbom["metadata"]["component"]
    assert root["purl"].startswith("pkg:pypi/pytally@0.1.0")
    assert root["externalReferences"][0]["url"] == f"git+{pytally_repo.as_uri()}@{record.commit}"
    tools = {t["name"] for t in sbom["metadata"]["tools"]["components"]}
    assert {"wheelworks", "auditwheel"} <= tools and tools & {"gcc", "cc", "x86_64-linux-gnu-gcc-12"}
    assert record.targets[0].components == [f"libtally 1.2.3 (recipe) {next(iter(f for f in zipfile.ZipFile(wheel).namelist() if f.startswith('pytally.libs/')))}"]

    _build(config, cache_dir, "--only", only, "--rebuild")
    again = Records(config.parent / "builds").load("latest")
    assert not again.targets[0].reused_from
    assert _validated(config.parent / "wheelhouse" / again.targets[0].wheel)[1] == first


def test_a_path_recipe_names_its_source_digest(make_config, cache_dir, pythons):
    config = make_config(library=f"""
        [[library]]
        name = "libtally"
        version = "1.2.3"
        path = "{FIXTURES / 'libtally'}"
        system = "cmake"
    """)
    _build(config, cache_dir, "--only", f"cp{pythons[-1].replace('.', '')}-*")
    record = Records(config.parent / "builds").load("latest")
    sbom, _ = _validated(config.parent / "wheelhouse" / record.targets[0].wheel)
    (tally,) = sbom["components"]
    properties = {p["name"]: p["value"] for p in tally["properties"]}
    assert properties["wheelworks:source-digest"] == tree_digest(FIXTURES / "libtally")
    assert "externalReferences" not in tally and "licenses" not in tally
    assert f"checksum=sha256:{tree_digest(FIXTURES / 'libtally')}" in tally["purl"]


def _changed(wheel: Path, folder: Path, member: str) -> Path:
    """The same wheel with one member's bytes changed (RECORD left as it was: a tampered copy)."""
    folder.mkdir()
    out = folder / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data + b"\n# changed\n" if info.filename == member else data)
    return out


def test_verify_rebuilds_a_published_wheel_and_names_what_differs(make_config, cache_dir, pythons, tmp_path, capsys):
    config = make_config()
    _build(config, cache_dir, "--only", f"cp{pythons[-1].replace('.', '')}-*")
    assert cli.main(["publish", "--config", str(config)]) == 0
    published = next((config.parent / "containers" / "nightly" / "files").rglob("*.whl"))
    capsys.readouterr()
    verify = ["verify", "--config", str(config), "--cache-dir", str(cache_dir), "--container", "nightly"]
    assert cli.main([*verify, str(published)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "identical" and "rebuilt cp3" in out

    tampered = _changed(published, tmp_path / "tampered", "pytally/__init__.py")
    assert cli.main([*verify, str(tampered)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "differs: pytally/__init__.py"

    # From a served container, by URL: the records come from the container itself.
    from wheelworks.containers import open_store
    from wheelworks.containers.serve import make_server

    server = make_server(open_store(str(config.parent / "containers" / "nightly")), 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/" + str(published.relative_to(
            config.parent / "containers" / "nightly"))
        assert cli.main(["verify", "--config", str(config), "--cache-dir", str(cache_dir), url]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "identical"
    finally:
        server.shutdown()
        server.server_close()
    assert cli.main([*verify, str(tmp_path / "absent.whl")]) == 10
    assert capsys.readouterr().err.count("\n") == 1
