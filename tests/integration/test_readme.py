"""The README's path for a user's own project, run as it is written.

Only what cannot be here is changed: the project's URL becomes a local git repository of
a fixture (threadtally, with its tag v0.1.0), `mypkg` its name and 1.2.0 its version, and
`pip install wheelworks` is the test's own installation.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import FIXTURES, git_repo

pytestmark = pytest.mark.slow
README = Path(__file__).parents[2] / "README.md"


def _blocks() -> list[list[str]]:
    section = README.read_text().split("## Use it for your project", 1)[1].split("\n## ", 1)[0]
    return [[line.split("  #", 1)[0].strip() for line in block.strip().splitlines()]
            for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)]


def test_the_readme_path_works_as_written(tmp_path, cache_dir):
    project = git_repo(FIXTURES / "threadtally", tmp_path / "src" / "threadtally", tag="v1.2.0")
    setup, release = _blocks()
    assert setup[0] == "pip install wheelworks" and any(line.startswith("wheelworks release") for line in release)

    def adapt(line: str) -> str:
        return (line.replace("https://github.com/me/mypkg.git", str(project)).replace("mypkg", "threadtally")
                .replace("1.2.0", "0.1.0" if "release" in line else "1.2.0"))

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "WHEELWORKS_CACHE_DIR": str(cache_dir), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    script = "set -e\n" + "\n".join(adapt(line) for line in setup[1:])
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = tmp_path / "threadtally-wheels"
    assert list((wheels / "containers" / "nightly" / "simple" / "threadtally").glob("index.*"))
    assert (wheels / ".github" / "workflows" / "wheels.yml").is_file()
    tracked = subprocess.run(["git", "ls-files"], cwd=wheels, capture_output=True, text=True, check=True).stdout
    assert "wheelworks.toml" in tracked and "builds/" not in tracked and "wheelhouse/" not in tracked

    # The fixture's version is 0.1.0 at its tag v1.2.0: the build and publish line as written,
    # then the release line with the version the wheels carry.
    build, gate = adapt(release[0]), adapt(release[1])
    assert subprocess.run(["bash", "-c", build], cwd=wheels, env=env, capture_output=True).returncode == 0
    verdict = subprocess.run(["bash", "-c", gate], cwd=wheels, env=env, capture_output=True, text=True)
    assert "release gate:" in verdict.stdout + verdict.stderr
    # The machine lacks some CPythons of today's matrix: the gate refuses, as the real run would.
    assert verdict.returncode == 0 or "no wheel for" in verdict.stderr, verdict.stdout + verdict.stderr
