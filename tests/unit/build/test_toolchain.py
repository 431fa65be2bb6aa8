"""zig's target per policy, and what its wrapper scripts hand it (run with echo in zig's place)."""

import subprocess
from pathlib import Path

import pytest

from wheelworks.build.toolchain import target, wrapper
from wheelworks.config.policy import parse
from wheelworks.shared.platforms import Platform

LINUX = Platform("linux", "x86_64", "manylinux_x86_64", "glibc-2.36")


@pytest.mark.parametrize(("policy", "triple"), [
    ("manylinux2014", "x86_64-linux-gnu.2.17"), ("manylinux_2_28", "x86_64-linux-gnu.2.28"),
    (None, "x86_64-linux-gnu.2.17"), ("musllinux_1_2", "x86_64-linux-musl"),
])
def test_the_target_is_the_policy_s_libc(policy, triple):
    assert target(LINUX, parse(policy) if policy else None) == triple
    assert target(Platform("linux", "aarch64", "manylinux_aarch64"), parse("manylinux_2_28")) == "aarch64-linux-gnu.2.28"


def _run(tmp_path: Path, mode: str, args: list[str], env: dict[str, str]) -> list[str]:
    script = tmp_path / mode
    script.write_text(wrapper("/bin/echo", mode, "x86_64-linux-gnu.2.17"))
    script.chmod(0o755)
    return subprocess.run([str(script), *args], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", **env}).stdout.split()


def test_the_compiler_gets_target_optimisation_and_library_folders(tmp_path):
    out = _run(tmp_path, "cc", ["-O0", "x.c", "-ltally"], {"LIBRARY_PATH": "/p/lib:/q lib/lib64:"})
    assert out[:3] == ["cc", "-target", "x86_64-linux-gnu.2.17"]
    assert out.index("-O2") < out.index("-O0")  # the project's own flags come after, and win
    assert "-fno-sanitize=undefined" in out and "-Wl,--undefined-version" in out and "-Wl,--build-id=sha1" in out
    assert out[-3:] == ["-L/p/lib", "-L/q", "lib/lib64"]  # (echo splits the spaced folder; the shell did not)
    assert "-L" not in " ".join(_run(tmp_path, "c++", ["x.cc"], {}))


def test_ar_and_ranlib_pass_through(tmp_path):
    assert _run(tmp_path, "ar", ["rcs", "libx.a", "x.o"], {"LIBRARY_PATH": "/p/lib"}) == ["ar", "rcs", "libx.a", "x.o"]


def test_a_failure_that_needed_what_zig_lacks_says_so(tmp_path):
    from wheelworks.build.toolchain import tripped

    log = tmp_path / "build.log"
    log.write_text("+ cc -fopenmp -c x.c\nfatal error: 'omp.h' file not found\n")
    zig = {"ZIG_GLOBAL_CACHE_DIR": "/c/zig"}
    hint = tripped(log, zig)
    assert hint and "needs OpenMP" in hint and "manylinux images" in hint and "\n" not in hint
    assert tripped(log, {}) is None  # not a zig build: the log speaks for itself
    log.write_text("+ meson setup\nERROR: Unknown compiler(s): [['gfortran']]\n")
    assert "Fortran" in tripped(log, zig)
    log.write_text("error: undefined reference to `tally_sum'\n")
    assert tripped(log, zig) is None
