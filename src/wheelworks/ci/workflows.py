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
from wheelworks.shared.errors import ConfigError
from wheelworks.shared.paths import is_url

ARTIFACT = "wheels-"
CACHE_DIR = ".wheelworks-cache"
_REF = "${{ inputs.build-commit || github.ref_name }}"  # what picks the container, as publish does
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
        *_cache_steps(config, root),
        {"name": "Build, repair and test (or take the container's wheels, if nothing changed)",
         "run": _command(config, root, "build", '--only "$WHEELWORKS_ONLY"', '--reuse-published "$REF"') + "\n"},
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
            "WHEELWORKS_CACHE_DIR": CACHE_DIR,  # in the workspace, where actions/cache finds it in a container too
            "REF": _REF,
        },
    }
    if os_name == "linux":
        job["container"] = "${{ matrix.image }}"
        job["env"]["WHEELWORKS_IMAGE"] = "${{ matrix.image }}"  # by digest: part of every target's key
    if os_name == "windows":
        job["defaults"] = {"run": {"shell": "bash"}}
    job["steps"] = steps
    return job


def _download_all(config: Config) -> dict[str, Any]:
    """Every build job's artifact (wheelhouse/ and builds/) merged into artifacts/."""
    return {"uses": _uses(config, "actions/download-artifact"),
            "with": {"pattern": ARTIFACT + "*", "merge-multiple": True, "path": "artifacts"}}


def _cache_steps(config: Config, root: Path) -> list[dict[str, Any]]:
    """actions/cache for the wheelworks cache. Its entries are keyed by their inputs inside
    (recipe keys, interpreters), so restoring an older one is safe: the key only says when
    to save a new one, on a change of the config or of the pinned wheelworks. The compiler
    cache changes every run: it is saved every run and the newest restored."""
    files = ", ".join(f"'{f}'" for f in (_relative(config.path, root), REQUIREMENTS.as_posix()))
    prefix = "wheelworks-${{ matrix.platform }}-"
    steps: list[dict[str, Any]] = [{
        "name": "Restore the wheelworks cache", "uses": _uses(config, "actions/cache"),
        "with": {"path": f"{CACHE_DIR}\n!{CACHE_DIR}/ccache\n!{CACHE_DIR}/tmp\n",
                 "key": prefix + "${{ hashFiles(" + files + ") }}", "restore-keys": prefix + "\n"},
    }]
    if config.build.ccache:
        prefix = "ccache-${{ matrix.platform }}-"
        steps.append({"name": "Restore the newest compiler cache", "uses": _uses(config, "actions/cache"),
                      "with": {"path": f"{CACHE_DIR}/ccache\n", "key": prefix + "${{ github.run_id }}",
                               "restore-keys": prefix + "\n"}})
    return steps


def _python_steps(config: Config) -> list[dict[str, Any]]:
    return [
        {"uses": _uses(config, "actions/setup-python"), "with": {"python-version": TOOL_PYTHON}},
        _install(config, "python"),
    ]


def _publish_job(config: Config, root: Path, needs: list[str]) -> dict[str, Any]:
    env = {"REF": _REF}
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
            _download_all(config),
            {"name": "Publish to the container the branch picks",
             "run": _command(config, root, "publish", '--ref "$REF"', "artifacts/" + _relative(config.root / "wheelhouse", root)) + "\n"},
        ],
    }


def _test_on_jobs(config: Config, root: Path, built: list[str]) -> dict[str, dict[str, Any]]:
    """Jobs that install the built wheels where they were not built, before any is
    published: runner labels with the runner's own python3, container images with theirs."""
    runners = [{"where": label, "runner": label, "platform": tested_platform(label, built)}
               for label in config.ci.test_on if not _is_image(label)]
    images = [{"where": image, "image": image, "platform": tested_platform(image, built)}
              for image in config.ci.test_on if _is_image(image)]
    download = {"uses": _uses(config, "actions/download-artifact"),
                "with": {"name": ARTIFACT + "${{ matrix.platform }}", "path": "artifacts"}}
    test = {"name": "Install the wheel pip picks here and run the tests",
            "run": _command(config, root, "test", '--python "$TEST_PYTHON"',
                            "artifacts/" + _relative(config.root / "wheelhouse", root)) + "\n"}
    jobs: dict[str, dict[str, Any]] = {}
    base = {"runs-on": "${{ matrix.runner }}", "permissions": {"contents": "read"}}
    if runners:
        jobs["test-runners"] = {
            "name": "test on ${{ matrix.where }}", "needs": built, **base,
            "strategy": {"fail-fast": False, "matrix": {"include": runners}},
            "steps": [_checkout(config),
                      {"name": "Note the runner's own Python", "run": 'echo "TEST_PYTHON=$(command -v python3)" >> "$GITHUB_ENV"\n'},
                      *_python_steps(config), download, test]}
    if images:
        jobs["test-images"] = {
            "name": "test in ${{ matrix.where }}", "needs": built, **base, "runs-on": "ubuntu-24.04",
            "container": "${{ matrix.image }}",
            "strategy": {"fail-fast": False, "matrix": {"include": images}},
            "steps": [_checkout(config),
                      {"name": "Make a venv for wheelworks with the image's Python",
                       "run": 'python3 -m venv "$RUNNER_TEMP/wheelworks"\n'
                              'echo "$RUNNER_TEMP/wheelworks/bin" >> "$GITHUB_PATH"\n'
                              'echo "TEST_PYTHON=$(command -v python3)" >> "$GITHUB_ENV"\n'},
                      _install(config, "python"), download, test]}
    return jobs


def _is_image(entry: str) -> bool:
    return ":" in entry or "/" in entry


def tested_platform(entry: str, built: list[str]) -> str:
    """The platform whose wheels ``entry`` (a runner label or an image) installs."""
    if _is_image(entry) or entry.startswith("ubuntu-"):
        platform = "linux-aarch64" if entry.endswith("-arm") else "linux-x86_64"
    elif entry.startswith("macos-"):
        platform = "macos-x86_64" if entry.endswith("-intel") or entry == "macos-13" else "macos-arm64"
    else:
        raise ConfigError(f"[ci] test-on: {entry!r} is neither an Ubuntu or macOS runner label nor an image",
                          "e.g. \"ubuntu-22.04\" or \"python:3.12-slim\" (Windows runners have no system Python)")
    if platform.split("-")[0] not in built:
        raise ConfigError(f"[ci] test-on: {entry!r} installs {platform} wheels, which no job builds",
                          f"add {platform} to [ci] platforms")
    return platform


def _alert_job(config: Config, root: Path, needs: list[str]) -> dict[str, Any]:
    """After a scheduled run, whatever its result: the failure issue opened, updated or
    closed. The only job that may write issues."""
    return {
        "name": "tell about scheduled failures",
        "needs": needs,
        "if": "${{ always() && github.event_name == 'schedule' }}",
        "runs-on": "ubuntu-24.04",
        "permissions": {"issues": "write", "actions": "read"},  # actions: read, for the jobs' log links
        "env": {"WHEELWORKS_NEEDS": "${{ toJSON(needs) }}", "GITHUB_TOKEN": "${{ github.token }}"},
        "steps": [
            _checkout(config),
            *_python_steps(config),
            _download_all(config),
            {"name": "Open, update or close the failure issue",
             "run": _command(config, root, "alert", "--builds", "artifacts/" + _relative(config.root / "builds", root)) + "\n"},
        ],
    }


def thrown_away(config: Config, root: Path) -> list[str]:
    """One line per container the workflow publishes to that is a folder inside the
    repository: on a hosted runner its disk, and the wheels, are thrown away."""
    return [f"container {c.name} is the folder {_relative(Path(c.url), root)} in the repository: the publish job's "
            "wheels vanish with its runner; set [containers." + c.name + "] url to s3://… (and public-url), or a "
            "self-hosted runner's absolute folder"
            for c in config.containers if not is_url(c.url) and Path(c.url).is_relative_to(root.resolve())]


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
    built = list(jobs)
    jobs.update(_test_on_jobs(config, root, built))
    jobs["publish"] = _publish_job(config, root, list(jobs))
    if "schedule" in on:
        jobs["alert"] = _alert_job(config, root, list(jobs))
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
    """Multi-line strings (scripts, path lists) as literal blocks, as people write them;
    a step two jobs share written out in each, never as a YAML alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


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
