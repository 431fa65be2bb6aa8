"""Real projects, real recipes: PyPI sdists against Debian's upstream tarballs of their C
libraries, one CPython each. The host has its own libffi and liblz4, so only the GNU build
id tells that the wheel carries the recipe's build, not a copy of the host's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests import real_sources
from tests.older_root import debian11, run_with_wheel
from tests.real_sources import DEBIAN
from wheelworks import cli
from wheelworks.build.records import Records
from wheelworks.shared.hashes import file_sha256

pytestmark = [pytest.mark.slow, pytest.mark.real]

@pytest.fixture(scope="session")
def sources() -> Path:
    if shutil.which("apt-get") is None:
        pytest.skip("no apt-get: the C library sources come from Debian source packages")
    return real_sources.fetch()


def _build_id(elf: Path) -> str:
    notes = subprocess.run(["readelf", "-n", str(elf)], capture_output=True, text=True, check=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", notes).group(1)


def _build(tmp_path: Path, project: str, sdist: Path, library: str,
           python: str = f"{sys.version_info[0]}.{sys.version_info[1]}", cache: Path | None = None) -> Path:
    config = tmp_path / "wheelworks.toml"
    config.write_text(textwrap.dedent(f"""
        [project]
        name = "{project}"
        repo = "{sdist}"
        [build]
        python = ["{python}"]
        {library}
    """))
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache or tmp_path / "cache"), "-j", "2"]) == 0
    return config


def _vendored(config: Path, folder: str, stem: str, host: str) -> None:
    record = Records(config.parent / "builds").load("latest")
    (target,) = record.targets
    assert target.status == "ok" and target.vendored, target  # the test loaded the wheel's own copy
    built = next(Path(record.libraries[0].prefix, "lib").glob(f"{stem}.so.*.*"))
    with zipfile.ZipFile(config.parent / "wheelhouse" / target.wheel) as wheel:
        (inside,) = [n for n in wheel.namelist() if n.startswith(f"{folder}/{stem}-")]
        copy = config.parent / "vendored.so"
        copy.write_bytes(wheel.read(inside))
    assert _build_id(copy) == _build_id(built)  # the recipe's build, byte for byte where it counts
    if Path(host).exists():
        assert _build_id(copy) != _build_id(Path(host).resolve())  # not the host's copy
    assert record.source.startswith("sdist:") and record.repo.endswith(".tar.gz")  # provenance


def test_lz4_with_liblz4_from_its_meson_subdir(sources, tmp_path):
    config = _build(tmp_path, "lz4", sources / "lz4-4.4.5.tar.gz", _lz4(sources))
    _vendored(config, "lz4.libs", "liblz4", "/usr/lib/x86_64-linux-gnu/liblz4.so.1")


def test_lz4_built_with_zig_for_manylinux_2_17_works_on_debian_11(sources, tmp_path, cache_dir):
    """A real project and its C library compiled by zig on this glibc 2.36 machine: a
    manylinux_2_17 wheel that vendors the recipe's liblz4 and works where glibc is 2.31."""
    config = _build(tmp_path, "lz4", sources / "lz4-4.4.5.tar.gz",
                    'manylinux = "manylinux_2_17"\ntoolchain = "zig"\n' + _lz4(sources), python="3.9", cache=cache_dir)
    record = Records(config.parent / "builds").load("latest")
    (target,) = record.targets
    assert any(tag.endswith("-manylinux_2_17_x86_64") for tag in target.tags), target.tags
    assert record.toolchain and "x86_64-linux-gnu.2.17" in record.toolchain
    _vendored(config, "lz4.libs", "liblz4", "/usr/lib/x86_64-linux-gnu/liblz4.so.1")
    done = run_with_wheel(debian11(), config.parent / "wheelhouse" / target.wheel,
                          "import lz4.frame as f; d = b'wheelworks ' * 99; print(f.decompress(f.compress(d)) == d)")
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr


def _lz4(sources: Path) -> str:
    """liblz4's recipe (meson, from its contrib/meson) and lz4's own check."""
    tarball = sources / DEBIAN["lz4"]
    return textwrap.dedent(f"""
        [[library]]
        name = "liblz4"
        version = "1.9.4"
        url = "{tarball.as_uri()}"
        sha256 = "{file_sha256(tarball)}"
        system = "meson"
        subdir = "contrib/meson"
        [test]
        command = '''{LZ4_TEST}'''
    """)


LZ4_TEST = """python -c 'import lz4.frame as f; d = b"wheelworks " * 99; assert f.decompress(f.compress(d)) == d'"""
CFFI = """python -c 'import cffi; ffi = cffi.FFI(); ffi.cdef("int abs(int);"); assert ffi.dlopen(None).abs(-3) == 3'"""
CFFI_TEST = f"""
        [test]
        command = '''{CFFI}'''
"""


def _libffi(tarball: Path) -> str:
    return f"""
        [[library]]
        name = "libffi"
        version = "3.4.4"
        url = "{tarball.as_uri()}"
        sha256 = "{file_sha256(tarball)}"
        system = "autotools"
        args = ["--disable-static", "--disable-docs"]
    """


def test_cffi_with_libffi_by_autotools(sources, tmp_path):
    tarball = sources / DEBIAN["libffi"]
    config = _build(tmp_path, "cffi", sources / "cffi-2.1.1.tar.gz", _libffi(tarball) + CFFI_TEST)
    _vendored(config, "cffi.libs", "libffi", "/usr/lib/x86_64-linux-gnu/libffi.so.8")


@pytest.mark.skipif(shutil.which("autoreconf") is None,
                    reason="autoreconf is not installed (scripts/system-packages.sh installs autoconf, automake, libtool)")
def test_cffi_with_libffi_from_a_tarball_without_configure(sources, tmp_path):
    """Bootstrapped with the tarball's autogen.sh (autoreconf) first."""
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sources / DEBIAN["libffi"]) as archive:
        archive.extractall(unpacked, filter="data")
    (root,) = unpacked.iterdir()
    (root / "configure").unlink()
    tarball = tmp_path / "libffi-3.4.4-noconfigure.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(root, arcname=root.name)
    config = _build(tmp_path, "cffi", sources / "cffi-2.1.1.tar.gz", _libffi(tarball) + CFFI_TEST)
    log = (Records(config.parent / "builds").folder(Records(config.parent / "builds").load("latest").id)
           / "logs" / "libraries" / "libffi.log").read_text()
    assert "autogen.sh" in log or "autoreconf" in log
    _vendored(config, "cffi.libs", "libffi", "/usr/lib/x86_64-linux-gnu/libffi.so.8")


SKIMAGE_TEST = """python -c '
import numpy as np
from skimage import feature, filters, morphology
image = np.zeros((64, 64)); image[16:48, 16:48] = 1.0
edges = filters.sobel(image)
assert edges[32, 16] > 0.1 and edges[32, 32] == 0  # on the edge of the square, not inside it
assert feature.canny(image).sum() > 100  # Cython
assert morphology.remove_small_objects(image > 0, max_size=10).sum() == 32 * 32
assert feature.hessian_matrix_det(image).shape == image.shape  # Pythran
'"""


def test_scikit_image_with_meson_python_and_pythran(sources, tmp_path):
    """The project wheelworks was first made for: meson-python runs meson and ninja, and
    Pythran and Cython compile, all from its build environment."""
    config = _build(tmp_path, "scikit-image", sources / "scikit_image-0.26.0.tar.gz", f"""
        [test]
        command = '''{SKIMAGE_TEST}'''
    """, python="3.12")
    (target,) = Records(config.parent / "builds").load("latest").targets
    assert target.status == "ok" and target.wheel.startswith("scikit_image-0.26.0-cp312-cp312-manylinux"), target
    with zipfile.ZipFile(config.parent / "wheelhouse" / target.wheel) as wheel:
        names = wheel.namelist()
    assert "skimage/filters/__init__.py" in names
    assert any(n.startswith("skimage/feature/_hessian_det_appx") and n.endswith(".so") for n in names)


PILLOW_TEST = """python -c '
import io
from PIL import Image, ImageFont, features
for feature in ("jpg", "zlib", "freetype2", "libtiff"):
    assert features.check(feature), feature
image = Image.new("RGB", (64, 64), "red")
for kind, options in (("JPEG", {}), ("PNG", {}), ("TIFF", {"compression": "tiff_adobe_deflate"})):
    data = io.BytesIO()
    image.save(data, kind, **options)
    again = Image.open(io.BytesIO(data.getvalue()))
    again.load()
    assert again.size == (64, 64), kind
assert isinstance(ImageFont.load_default(size=20), ImageFont.FreeTypeFont)
'"""

# Five libraries, CMake and autotools, two deep (freetype -> libpng -> zlib; tiff -> libjpeg-turbo, zlib).
PILLOW_LIBRARIES = {  # name: (Debian source, version, system, args, depends)
    "zlib": ("zlib", "1.2.13", "autotools", [], []),
    "libpng": ("libpng1.6", "1.6.39", "autotools", ["--disable-static"], ["zlib"]),
    "freetype": ("freetype", "2.12.1", "autotools",
                 ["--disable-static", "--without-harfbuzz", "--without-brotli", "--without-bzip2"], ["libpng"]),
    "libjpeg-turbo": ("libjpeg-turbo", "2.1.5", "cmake", ["-DWITH_SIMD=0", "-DENABLE_STATIC=0"], []),
    # Debian's tiff tarball is a git snapshot without configure: its CMake build, then.
    "libtiff": ("tiff", "4.5.0", "cmake",
                [f"-D{option}=OFF" for option in ("webp", "zstd", "lzma", "jbig", "lerc", "libdeflate", "cxx",
                                                   "tiff-tools", "tiff-tests", "tiff-contrib", "tiff-docs")],
                ["zlib", "libjpeg-turbo"]),
}


def test_pillow_with_five_libraries_from_debian_sources(sources, tmp_path):
    """The host has its own -dev copies of all five: only build ids tell the recipes' were vendored.
    libjpeg-turbo bundles its own GNUInstallDirs (the typed install dirs matter), freetype sees
    zlib through libpng (depends is transitive)."""
    recipes = ""
    for name, (debian, version, system, args, depends) in PILLOW_LIBRARIES.items():
        tarball = sources / DEBIAN[debian]
        recipes += textwrap.dedent(f"""
            [[library]]
            name = "{name}"
            version = "{version}"
            url = "{tarball.as_uri()}"
            sha256 = "{file_sha256(tarball)}"
            system = "{system}"
            args = {args!r}
            depends = {depends!r}
        """)
    config = _build(tmp_path, "pillow", sources / "pillow-13.0.0.tar.gz", recipes + f"""
        [test]
        command = \'\'\'{PILLOW_TEST}\'\'\'
    """, python="3.12")
    record = Records(config.parent / "builds").load("latest")
    (target,) = record.targets
    assert target.status == "ok", target
    # The manylinux policy counts libz.so.1 as the system's: auditwheel leaves it to the host, and says so.
    assert target.host_copies == ["libz.so.1"]
    stems = {"libpng16": "libpng", "libfreetype": "freetype", "libjpeg": "libjpeg-turbo", "libtiff": "libtiff"}
    assert {Path(v).name.split("-")[0] for v in target.vendored} == set(stems)  # the test loaded each from the wheel
    prefixes = {lib.name: Path(lib.prefix) for lib in record.libraries}
    with zipfile.ZipFile(config.parent / "wheelhouse" / target.wheel) as wheel:
        for stem, recipe in stems.items():
            (inside,) = [n for n in wheel.namelist() if n.startswith(f"pillow.libs/{stem}-")]
            copy = tmp_path / f"{stem}.so"
            copy.write_bytes(wheel.read(inside))
            (built,) = {p.resolve() for p in (prefixes[recipe] / "lib").glob(f"{stem}.so.*")}
            assert _build_id(copy) == _build_id(built), stem  # the recipe's build, not the host's
        # Its SBOM names each recipe it vendors once, with the file it copied; zlib stays the host's, unlisted.
        sbom = json.loads(wheel.read("pillow-13.0.0.dist-info/sboms/wheelworks.cdx.json"))
    recipes_listed = {c["name"]: [p["value"].split(" ")[0] for p in c["properties"] if p["name"] == "wheelworks:file"]
                      for c in sbom["components"]
                      if {"name": "wheelworks:origin", "value": "recipe"} in c.get("properties", [])}
    assert sorted(recipes_listed) == sorted(stems.values())
    names = [c["name"] for c in sbom["components"]]
    assert len(names) == len(set(names)), names  # auditwheel's host components merged, not listed again
    assert all(len(files) == 1 and files[0].startswith("pillow.libs/") for files in recipes_listed.values())
