"""GitHub Actions workflows from the config: pure functions from Config to YAML text.

The wheels workflow has one job per operating system, a matrix entry per selected
platform, each running `wheelworks build --only <selector>` and uploading its wheelhouse
and build record; then one job publishes every wheel to the container the branch picks.
Hygiene: no permissions unless granted per job, checkouts keep no credentials, and no
`${{ }}` expression appears inside a `run:` script (values reach scripts through `env:`).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from wheelworks.build.targets import Matrix, platform_targets
from wheelworks.ci.runner_install import REQUIREMENTS, TOOL_PYTHON
from wheelworks.config.model import Config, ci_resources
from wheelworks.config.pins import install_kind
from wheelworks.config.pythons import order

ARTIFACT = "wheels-"
_TWINE_UPLOAD = "python -m twine upload --skip-existing dist/*.whl\n"


def _pins(config: Config) -> dict[str, str]:
    """Each action's "<commit> # <tag>" (or a ref where ci.toml has no commit): [ci] pins
    over the defaults of ci.toml."""
    return {**ci_resources()["actions"], **config.ci.pins}


def _uses(config: Config, action: str) -> str:
    return f"{action}@{_pins(config)[action].split()[0]}"


def _checkout(config: Config) -> dict[str, Any]:
    return {"uses": _uses(config, "actions/checkout"), "with": {"persist-credentials": False}}


def _command(config: Config, root: Path, *args: str) -> str:
    relative = shlex.quote(str(config.path.relative_to(root)) if config.path.is_relative_to(root) else str(config.path))
    return " ".join(["wheelworks", *args[:1], "--config", relative, *args[1:]])


def matrix(config: Config, versions: Matrix) -> dict[str, list[dict[str, str]]]:
    """Matrix entries of each OS job: {"linux": [{platform, runner, selector, image}], ...}."""
    spec = ci_resources()["platforms"]
    jobs: dict[str, list[dict[str, str]]] = {}
    for name in config.ci.platforms:
        if not platform_targets(config, name, versions):
            continue
        entry = {"platform": name, "runner": spec[name]["runner"], "selector": f"*-{spec[name]['tag']}"}
        if "image" in spec[name]:
            entry["image"] = image_of(config, spec[name]["image"].format(manylinux=config.ci.manylinux))
        jobs.setdefault(name.split("-")[0], []).append(entry)
    return jobs


def image_of(config: Config, image: str) -> str:
    """The image a Linux job runs in, by digest: [ci] pins, else the digest ci.toml knows
    for the default tag; by tag only when [ci] manylinux-tag names one without a digest."""
    data = ci_resources()
    digest = config.ci.pins.get(image)
    if digest is None and config.ci.manylinux_tag == data["manylinux-tag"]:
        digest = data["images"].get(image)
    return f"{image}@{digest}" if digest else f"{image}:{config.ci.manylinux_tag}"


def _pythons(config: Config, versions: Matrix, entries: list[dict[str, str]]) -> str:
    """setup-python's versions: every one the entries build (3.14t for free-threaded), then
    the one that runs wheelworks, which becomes `python`."""
    wanted = {t.python for e in entries for t in platform_targets(config, e["platform"], versions)}
    ordered = sorted(wanted, key=order)
    return "\n".join([*ordered, TOOL_PYTHON]) + "\n"  # the last one runs wheelworks


def _install(config: Config, python: str) -> dict[str, Any]:
    """The step that installs exactly the wheelworks the config pins: every byte hashed,
    and a git pin by its commit."""
    script = f'{python} -m pip install --require-hashes --no-deps -r {REQUIREMENTS.as_posix()}\n'
    if install_kind(config.ci.install) == "vcs":
        script += f'{python} -m pip install --no-deps "$WHEELWORKS_VCS"\n'
    step: dict[str, Any] = {"name": "Install wheelworks (pinned by sha256)", "run": script}
    if install_kind(config.ci.install) == "vcs":
        step["env"] = {"WHEELWORKS_VCS": config.ci.install.split(" @ ", 1)[1]}
    return step


def _build_job(config: Config, versions: Matrix, root: Path, os_name: str, entries: list[dict[str, str]]) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [_checkout(config)]
    if os_name == "linux":
        # The manylinux image has python3.X commands; wheelworks gets a venv of its own.
        steps.append({"name": "Make a venv for wheelworks",
                      "run": f'python{TOOL_PYTHON} -m venv "$RUNNER_TEMP/wheelworks"\n'
                             'echo "$RUNNER_TEMP/wheelworks/bin" >> "$GITHUB_PATH"\n'})
    else:
        steps.append({"uses": _uses(config, "actions/setup-python"),
                      "with": {"python-version": _pythons(config, versions, entries)}})
    wheelhouse = _relative(config.root / "wheelhouse", root)
    builds = _relative(config.root / "builds", root)
    steps += [
        _install(config, "python"),
        {"name": "Build, repair and test", "run": _command(config, root, "build", '--only "$WHEELWORKS_ONLY"') + "\n"},
        {"name": "Keep the wheels and the build record", "if": "${{ !cancelled() }}",
         "uses": _uses(config, "actions/upload-artifact"),
         "with": {"name": ARTIFACT + "${{ matrix.platform }}", "path": f"{wheelhouse}/\n{builds}/\n",
                  "if-no-files-found": "warn"}},
    ]
    job: dict[str, Any] = {
        "name": "${{ matrix.platform }}",
        "runs-on": "${{ matrix.runner }}",
        "permissions": {"contents": "read"},
        "strategy": {"fail-fast": False, "matrix": {"include": entries}},
        "env": {
            "WHEELWORKS_BUILD_COMMIT": "${{ inputs.build-commit }}",
            "WHEELWORKS_ONLY": "${{ matrix.selector }}",
        },
    }
    if os_name == "linux":
        job["container"] = "${{ matrix.image }}"
    if os_name == "windows":
        job["defaults"] = {"run": {"shell": "bash"}}
    job["steps"] = steps
    return job


def _python_steps(config: Config) -> list[dict[str, Any]]:
    return [
        {"uses": _uses(config, "actions/setup-python"), "with": {"python-version": TOOL_PYTHON}},
        _install(config, "python"),
    ]


def _publish_job(config: Config, root: Path, needs: list[str]) -> dict[str, Any]:
    env = {"REF": "${{ inputs.build-commit || github.ref_name }}"}
    env.update({name: f"${{{{ secrets.{name} }}}}" for name in config.ci.secrets})
    return {
        "name": "publish",
        "needs": needs,
        "runs-on": "ubuntu-24.04",
        "permissions": {"contents": "read"},
        "env": env,
        "steps": [
            _checkout(config),
            *_python_steps(config),
            {"uses": _uses(config, "actions/download-artifact"),
             "with": {"pattern": ARTIFACT + "*", "merge-multiple": True, "path": "artifacts"}},
            {"name": "Publish to the container the branch picks",
             "run": _command(config, root, "publish", '--ref "$REF"', "artifacts/" + _relative(config.root / "wheelhouse", root)) + "\n"},
        ],
    }


def wheels_workflow(config: Config, root: Path, versions: Matrix) -> str:
    """The workflow that builds on every selected platform and publishes; ``root`` is the
    wheels repository's root, which paths in the workflow are relative to."""
    jobs_matrix = matrix(config, versions)
    # Pruned containers take nightly builds, on the schedule; the others take pushed release branches.
    release_branches = sorted({b for c in config.containers if c.keep is None for b in c.branches})
    on: dict[str, Any] = {}
    if any(c.keep is not None for c in config.containers):
        on["schedule"] = [{"cron": config.ci.schedule}]
    if release_branches:
        on["push"] = {"branches": release_branches}
    on["workflow_dispatch"] = {"inputs": {"build-commit": {
        "description": "branch, tag or hash of the project to build (default: the config's)",
        "required": False, "type": "string", "default": ""}}}
    jobs = {os_name: _build_job(config, versions, root, os_name, entries) for os_name, entries in jobs_matrix.items()}
    jobs["publish"] = _publish_job(config, root, list(jobs))
    workflow = {
        "name": f"wheels of {config.project.name}",
        "on": on,
        "permissions": {},
        "concurrency": {"group": "${{ github.workflow }}-${{ github.ref }}", "cancel-in-progress": False},
        "jobs": jobs,
    }
    return _dump(config, workflow)


def release_workflow(config: Config, root: Path) -> str:
    """A manual workflow: fetch and verify a version's wheels from the release container,
    then upload them to PyPI (trusted publishing, or twine with a token secret)."""
    fetch_env = {"NAME": config.project.name,
                 "VERSION": "${{ inputs.version }}"}
    fetch_env.update({name: f"${{{{ secrets.{name} }}}}" for name in config.ci.secrets})
    fetch = {
        "name": "fetch and verify",
        "runs-on": "ubuntu-24.04",
        "permissions": {"contents": "read"},
        "env": fetch_env,
        "steps": [
            _checkout(config),
            *_python_steps(config),
            {"name": "Fetch the release's wheels and check their hashes",
             "run": _command(config, root, "release", "--download-only", "-w", "dist", '"$NAME"', '"$VERSION"') + "\n"},
            {"uses": _uses(config, "actions/upload-artifact"), "with": {"name": "release", "path": "dist/*.whl\n",
                                                                       "if-no-files-found": "error"}},
        ],
    }
    download = {"uses": _uses(config, "actions/download-artifact"), "with": {"name": "release", "path": "dist"}}
    if config.ci.release_upload == "trusted-publishing":
        upload = {
            "name": "upload to PyPI",
            "needs": ["fetch"],
            "runs-on": "ubuntu-24.04",
            "environment": {"name": "pypi", "url": f"https://pypi.org/project/{config.project.name}/"},
            "permissions": {"id-token": "write"},  # trusted publishing; also makes PEP 740 attestations
            "steps": [download, {"uses": _uses(config, "pypa/gh-action-pypi-publish"), "with": {"packages-dir": "dist/"}}],
        }
    else:
        upload = {
            "name": "upload to PyPI",
            "needs": ["fetch"],
            "runs-on": "ubuntu-24.04",
            "environment": {"name": "pypi", "url": f"https://pypi.org/project/{config.project.name}/"},
            "permissions": {},
            "env": {"TWINE_USERNAME": "__token__", "TWINE_PASSWORD": f"${{{{ secrets.{config.ci.pypi_token_secret} }}}}"},
            # twine comes from the same hashed requirements as wheelworks: no unpinned code sees the token
            "steps": [_checkout(config), *_python_steps(config), download,
                      {"name": "Upload with twine", "run": _TWINE_UPLOAD}],
        }
    workflow = {
        "name": f"release {config.project.name}",
        "on": {"workflow_dispatch": {"inputs": {"version": {
            "description": "the version to release", "required": True, "type": "string"}}}},
        "permissions": {},
        "jobs": {"fetch": fetch, "upload": upload},
    }
    text = _dump(config, workflow)
    # The config chose a token over trusted publishing; zizmor's advice to prefer it is known.
    return text.replace(f"run: |\n{' ' * 8}{_TWINE_UPLOAD}",
                        f"run: |  # zizmor: ignore[use-trusted-publishing]\n{' ' * 8}{_TWINE_UPLOAD}")


def _relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (scripts, path lists) as literal blocks, as people write them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def _dump(config: Config, workflow: dict[str, Any]) -> str:
    text = str(yaml.dump(workflow, Dumper=_Dumper, sort_keys=False, width=1000, default_flow_style=False))
    text = text.replace("'on':", "on:", 1)
    for action, pin in _pins(config).items():  # "<sha> # v4": YAML can only carry the tag as a comment
        sha, _, tag = pin.partition("#")
        if tag.strip():
            text = text.replace(f"uses: {action}@{sha.strip()}\n", f"uses: {action}@{sha.strip()} # {tag.strip()}\n")
    header = "# Generated by `wheelworks ci github` from the wheelworks config; edit that and generate again.\n"
    return header + text
