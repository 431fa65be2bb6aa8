"""The real projects' sources, fetched once into the tests' cache: PyPI sdists (pinned by
sha256) and Debian's upstream tarballs of their C libraries (apt-get source, with a private
apt configuration made from the machine's own). The real-project tests and bench/ share them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

from wheelworks.shared.hashes import file_sha256

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wheelworks-tests" / "real"

# PyPI sdists, pinned by sha256: (project, version) -> sha256
SDISTS = {
    ("pyyaml", "6.0.3"): "d76623373421df22fb4cf8817020cbb7ef15c725b9d5e45f17e189bfc384190f",
    ("cffi", "2.1.1"): "dd31f52ea1086513bb9df30f8fcee9b8918323ae067a3d5b78bc826a000712be",
    ("lz4", "4.4.5"): "5f0b9e53c1e82e88c10d7c180069363980136b9d7a8306c4dca4f760d60c39f0",
    ("scikit-image", "0.26.0"): "f5f970ab04efad85c24714321fcc91613fcb64ef2a892a13167df2f3e59199fa",
    ("pillow", "13.0.0"): "cdcd1ba258178f7356d74170c9a81ba4eab6a5d55748bc402a5a2a6fe6be3510",
}
DEBIAN = {"libyaml": "libyaml_0.2.5.orig.tar.gz", "libffi": "libffi_3.4.4.orig.tar.gz", "lz4": "lz4_1.9.4.orig.tar.gz",
          "zlib": "zlib_1.2.13.dfsg.orig.tar.bz2",
          "libpng1.6": "libpng1.6_1.6.39.orig.tar.gz", "freetype": "freetype_2.12.1+dfsg.orig.tar.xz",
          "libjpeg-turbo": "libjpeg-turbo_2.1.5.orig.tar.gz", "tiff": "tiff_4.5.0.orig.tar.bz2"}


def _apt_source() -> tuple[str, str, str]:
    """(URI, suite, keyring) of the machine's Debian archive, from its own apt configuration."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):  # deb822: one source per paragraph
            fields = dict(re.findall(r"^([\w-]+):\s*(.+)$", stanza, re.MULTILINE))
            if "debian" in fields.get("URIs", "") and "security" not in fields.get("URIs", ""):
                return fields["URIs"].split()[0], fields["Suites"].split()[0], fields.get("Signed-By", "")
    line = next(ln for ln in Path("/etc/apt/sources.list").read_text().splitlines() if ln.startswith("deb "))
    parts = line.split()
    return parts[1], parts[2], ""


def fetch() -> Path:
    """The folder holding every sdist and orig tarball, fetched now if missing; needs apt-get."""
    dl = CACHE / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    for (name, version), sha256 in SDISTS.items():
        _sdist(name, version, sha256, dl)
    if not all((dl / f).exists() for f in DEBIAN.values()):
        apt = CACHE / "apt"
        for sub in ("lists/partial", "cache", "parts"):
            (apt / sub).mkdir(parents=True, exist_ok=True)
        uri, suite, keyring = _apt_source()
        signed = f"[signed-by={keyring}] " if keyring else ""
        (apt / "sources.list").write_text(f"deb-src {signed}{uri} {suite} main\n")
        options = ["-o", f"Dir::Etc::SourceList={apt / 'sources.list'}", "-o", f"Dir::Etc::SourceParts={apt / 'parts'}",
                   "-o", f"Dir::State::Lists={apt / 'lists'}", "-o", f"Dir::Cache={apt / 'cache'}",
                   "-o", "APT::Sandbox::User=root", "-qq"]
        subprocess.run(["apt-get", *options, "update"], check=True)
        subprocess.run(["apt-get", *options, "source", "--download-only", *DEBIAN], check=True, cwd=dl)
    return dl


def _sdist(name: str, version: str, sha256: str, dl: Path) -> Path:
    """The sdist from PyPI's simple index (PEP 691), checked against its pin. Not by
    `pip download`, which builds the metadata, and so the build requirements, from source."""
    index = f"https://pypi.org/simple/{name}/"
    request = urllib.request.Request(index, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as page:
        files = json.load(page)["files"]
    (entry,) = [f for f in files if f["filename"].endswith(f"-{version}.tar.gz")]
    path = dl / entry["filename"]
    if not path.exists() or file_sha256(path) != sha256:
        with urllib.request.urlopen(urllib.parse.urljoin(index, entry["url"]), timeout=300) as body:
            path.write_bytes(body.read())
    assert file_sha256(path) == sha256, f"{path.name}: sha256 {file_sha256(path)}, pinned {sha256}"
    return path
