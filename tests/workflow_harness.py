"""Run a generated GitHub Actions job here, step by step, as a runner would.

`run:` steps run with `bash -eo pipefail` (GitHub's bash), with the job's and step's
`env:`, `${{ }}` expressions substituted from the matrix entry, inputs, secrets, github and needs
contexts (and hashFiles, toJSON), and GITHUB_PATH / GITHUB_ENV / GITHUB_OUTPUT honoured
between steps. After a failed step only steps whose `if:` says so run, and the job fails.
The `uses:` steps it knows are emulated (checkout: a copy of the wheels repository;
upload/download-artifact: folders; setup-python: the machine's interpreters; cache: a
folder of entries, restored by key or newest prefix, saved when the job passes). A job's
container image is not run: the machine's interpreters stand in for the image's.
Anything else — an unknown action, expression or step key — fails loudly.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import time
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPR = re.compile(r"\$\{\{(.*?)\}\}")
_STEP_KEYS = {"name", "uses", "with", "run", "env", "if", "shell", "working-directory", "id"}


class HarnessError(AssertionError):
    """The workflow uses something this harness does not know: fix the harness or the workflow."""


def load(path: Path) -> dict[str, Any]:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as True
    return workflow


def image_pythons(folder: Path, interpreters: Mapping[str, Path]) -> Path:
    """A bin folder with the python3.X commands a manylinux image has, made of the
    machine's ``interpreters`` ({"3.12": path}); put it on the runner's PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    for version, path in interpreters.items():
        wrapper = folder / f"python{version}"
        wrapper.write_text(f'#!/bin/sh\nexec "{path}" "$@"\n')
        wrapper.chmod(0o755)
    return folder


@dataclass
class Runner:
    """One emulated runner machine: a folder with the workspace, temp and artifact store."""

    repo: Path  # the wheels repository that actions/checkout copies
    root: Path
    inputs: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    github: Mapping[str, str] = field(default_factory=dict)
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    interpreters: Mapping[str, Path] = field(default_factory=dict)  # the machine's CPythons, by "3.X"
    actions_cache: Path | None = None  # actions/cache's store: several runners may share one
    needs: Mapping[str, str] = field(default_factory=dict)  # results of the jobs a job needs
    log: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # each step's time, by "job: step"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    def run_job(self, workflow: dict[str, Any], job_id: str, matrix: Mapping[str, str] | None = None) -> Path | None:
        """Run ``job_id`` (one ``matrix`` entry of it); returns its workspace, or None when
        its ``if:`` skips it. StepFailed if a step failed (after the steps that run anyway)."""
        job = workflow["jobs"][job_id]
        context = {"matrix": dict(matrix or {}), "inputs": dict(self.inputs), "secrets": dict(self.secrets),
                   "github": {"workflow": workflow.get("name", ""), **self.github},
                   "needs": {name: {"result": result, "outputs": {}} for name, result in self.needs.items()}}
        if "if" in job and not _condition(job["if"], context, failed=False):
            return None
        name = f"{job_id}-{(matrix or {}).get('platform', 'job')}"
        workspace, temp = self.root / name / "workspace", self.root / name / "temp"
        for folder in (workspace, temp):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        files = {var: temp / f"{var.lower()}.txt" for var in ("GITHUB_PATH", "GITHUB_ENV", "GITHUB_OUTPUT")}
        env = {**self.base_env, "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace),
               "RUNNER_TEMP": str(temp), "RUNNER_OS": "Linux",
               **{f"GITHUB_{k.upper()}": str(v) for k, v in context["github"].items()}}
        env.update(_evaluate_all(job.get("env", {}), context))
        shell = job.get("defaults", {}).get("run", {}).get("shell", "bash")
        if shell != "bash":
            raise HarnessError(f"job {job_id}: shell {shell!r} is not emulated")
        failure: StepFailed | None = None
        saves: list[tuple[str, str]] = []  # actions/cache entries to save when the job passes
        for index, step in enumerate(job["steps"]):
            unknown = set(step) - _STEP_KEYS
            if unknown:
                raise HarnessError(f"job {job_id} step {index}: unknown keys {sorted(unknown)}")
            if not _condition(step.get("if", "success()"), context, failed=failure is not None):
                continue
            for f in files.values():
                f.write_text("")
            step_env = {**env, **files_env(files), **_evaluate_all(step.get("env", {}), context)}
            label = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            self.log.append(f"{job_id}: {label}")
            start = time.monotonic()
            try:
                if "uses" in step:
                    added = self._action(step, context, workspace, temp, saves)
                    if added:
                        env["PATH"] = os.pathsep.join([str(added), env["PATH"]])
                else:
                    self._run(step, step_env, workspace, temp, label)
            except StepFailed as exc:
                failure = failure or exc
            self.seconds[f"{job_id}: {label}"] = time.monotonic() - start
            env = _apply_files(env, files)
        if failure is not None:
            raise failure
        for key, paths in saves:  # actions/cache's post step: only a job that passed saves
            self._save_cache(key, paths, workspace)
        return workspace

    def _run(self, step: dict[str, Any], env: dict[str, str], workspace: Path, temp: Path, label: str) -> None:
        script = step["run"]
        if "${{" in script:  # values reach scripts through env:, never spliced into the code
            raise HarnessError(f"step {label!r}: an expression inside a run: script")
        if step.get("shell", "bash") != "bash":
            raise HarnessError(f"step {label!r}: shell {step['shell']!r} is not emulated")
        path = temp / "step.sh"
        path.write_text(script)
        cwd = workspace / step.get("working-directory", ".")
        out = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=cwd, env=env,
                             capture_output=True, text=True)
        self.log.append(out.stdout + out.stderr)
        if out.returncode != 0:
            raise StepFailed(f"step {label!r} exited {out.returncode}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")

    def _action(self, step: dict[str, Any], context: dict[str, Any], workspace: Path, temp: Path,
                saves: list[tuple[str, str]]) -> Path | None:
        """Emulate a known action; returns a folder it puts on PATH, if any."""
        action = step["uses"].split("@", 1)[0]
        args = _evaluate_all(step.get("with", {}), context, workspace)
        if action == "actions/cache":
            if self.actions_cache is None:
                raise HarnessError("actions/cache: the runner has no actions_cache store")
            hit = self._restore_cache(args["key"], args.get("restore-keys", "").split(), workspace)
            if hit != args["key"]:
                saves.append((args["key"], args["path"]))
        elif action == "actions/checkout":
            if str(args.get("persist-credentials", "")).lower() != "false":
                raise HarnessError("checkout must not persist credentials")
            shutil.copytree(self.repo, workspace, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
        elif action == "actions/setup-python":
            # The last version listed becomes `python`: a fresh venv of the machine's CPython
            # stands in for the runner's clean tool-cache install, so nothing lands in the machine's.
            version = args["python-version"].split()[-1]
            if version not in self.interpreters:
                raise HarnessError(f"setup-python {version}: no such CPython on this machine")
            venv = temp / f"setup-python-{version}"
            subprocess.run([str(self.interpreters[version]), "-m", "venv", str(venv)], check=True)
            return venv / "bin"
        elif action == "actions/upload-artifact":
            dest = self.artifacts / args["name"]
            if dest.exists():
                raise HarnessError(f"artifact {args['name']} uploaded twice")
            found = False
            for line in filter(None, (p.strip() for p in args["path"].splitlines())):
                for source in sorted(workspace.glob(line.rstrip("/"))):
                    found = True
                    target = dest / source.relative_to(workspace)
                    if source.is_dir():
                        shutil.copytree(source, target, dirs_exist_ok=True)
                    else:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(source, target)
            if not found and args.get("if-no-files-found", "warn") == "error":
                raise StepFailed(f"upload-artifact {args['name']}: no files found")
        elif action == "actions/download-artifact":
            names = [args["name"]] if "name" in args else sorted(
                p.name for p in self.artifacts.iterdir() if fnmatch.fnmatchcase(p.name, args["pattern"]))
            if not names:
                raise StepFailed("download-artifact: no artifact matches")
            for name in names:
                target = workspace / args.get("path", ".")
                if "pattern" in args and str(args.get("merge-multiple", "")).lower() != "true":
                    target = target / name
                shutil.copytree(self.artifacts / name, target, dirs_exist_ok=True)
        else:
            raise HarnessError(f"action {step['uses']} is not emulated")
        return None


    def _entries(self) -> list[tuple[float, str, Path]]:
        assert self.actions_cache is not None
        found = []
        for meta in self.actions_cache.glob("*/entry.json"):
            data = json.loads(meta.read_text())
            found.append((data["time"], data["key"], meta.parent / "files"))
        return sorted(found, reverse=True)  # newest first, as actions/cache looks

    def _restore_cache(self, key: str, prefixes: list[str], workspace: Path) -> str | None:
        entries = self._entries()
        chosen = next((e for e in entries if e[1] == key), None) or next(
            (e for p in prefixes for e in entries if e[1].startswith(p)), None)
        if chosen is None:
            return None
        shutil.copytree(chosen[2], workspace, dirs_exist_ok=True, symlinks=True)
        self.log.append(f"cache restored from key {chosen[1]}")
        return chosen[1]

    def _save_cache(self, key: str, paths: str, workspace: Path) -> None:
        assert self.actions_cache is not None
        if any(e[1] == key for e in self._entries()):
            return  # entries are immutable: the first save of a key wins
        lines = [p.strip() for p in paths.splitlines() if p.strip()]
        excluded = [workspace / p[1:] for p in lines if p.startswith("!")]
        entry = self.actions_cache / hashlib.sha256(key.encode()).hexdigest()[:16]
        for line in (p for p in lines if not p.startswith("!")):
            source = workspace / line
            if source.exists():
                shutil.copytree(source, entry / "files" / line, symlinks=True,
                                ignore=lambda folder, names: {n for n in names if Path(folder, n) in excluded})
        entry.mkdir(parents=True, exist_ok=True)
        (entry / "entry.json").write_text(json.dumps({"key": key, "time": time.time()}))


class StepFailed(AssertionError):
    """A step of the job failed, as it would on GitHub."""


def files_env(files: Mapping[str, Path]) -> dict[str, str]:
    return {var: str(path) for var, path in files.items()}


def _apply_files(env: dict[str, str], files: Mapping[str, Path]) -> dict[str, str]:
    env = dict(env)
    added = [line for line in files["GITHUB_PATH"].read_text().splitlines() if line.strip()]
    if added:
        env["PATH"] = os.pathsep.join([*reversed(added), env.get("PATH", "")])
    lines = iter(files["GITHUB_ENV"].read_text().splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, marker = line.split("<<", 1)
            value = []
            for item in lines:
                if item == marker:
                    break
                value.append(item)
            env[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            env[name] = value
    return env


def _evaluate_all(values: Mapping[str, Any], context: dict[str, Any], workspace: Path | None = None) -> dict[str, str]:
    return {k: _substitute(str(v) if not isinstance(v, bool) else str(v).lower(), context, workspace)
            for k, v in values.items()}


def _substitute(text: str, context: dict[str, Any], workspace: Path | None = None) -> str:
    return _EXPR.sub(lambda m: _value(m.group(1).strip(), context, workspace), text)


def _value(expr: str, context: dict[str, Any], workspace: Path | None = None) -> str:
    """The expressions generated workflows use: context.name, a || b, literals,
    toJSON(needs) and hashFiles('path', ...) (of files in the workspace)."""
    if "||" in expr:
        for part in expr.split("||"):
            value = _value(part.strip(), context, workspace)
            if value:
                return value
        return ""
    if re.fullmatch(r"'[^']*'", expr):
        return expr[1:-1]
    if expr == "toJSON(needs)":
        return json.dumps(context["needs"])
    files = re.fullmatch(r"hashFiles\(((?:'[^']*'(?:,\s*)?)+)\)", expr)
    if files:
        if workspace is None:
            raise HarnessError("hashFiles outside a step's with:")
        digests = [hashlib.sha256((workspace / name).read_bytes()).hexdigest()
                   for name in re.findall(r"'([^']*)'", files.group(1)) if (workspace / name).is_file()]
        return hashlib.sha256("".join(digests).encode()).hexdigest() if digests else ""
    match = re.fullmatch(r"(matrix|inputs|secrets|github)\.([\w-]+)", expr)
    if not match:
        raise HarnessError(f"expression ${{{{ {expr} }}}} is not emulated")
    scope, name = match.groups()
    if scope == "matrix" and name not in context["matrix"]:
        raise HarnessError(f"matrix.{name} is not in the matrix entry")
    if scope == "github" and name not in context["github"]:
        raise HarnessError(f"github.{name} is not set by the harness")
    return str(context[scope].get(name, ""))


def _condition(expr: str, context: dict[str, Any], failed: bool) -> bool:
    """``a && b`` of status functions (nothing is ever cancelled here) and ``x == 'literal'``."""
    inner = _EXPR.fullmatch(expr.strip())
    text = inner.group(1).strip() if inner else expr.strip()
    result = True
    for part in (p.strip() for p in text.split("&&")):
        if part in ("!cancelled()", "always()"):
            continue
        if part in ("success()", "failure()"):
            result = result and (failed == (part == "failure()"))
            continue
        compared = re.fullmatch(r"([\w.-]+)\s*==\s*('[^']*')", part)
        if not compared:
            raise HarnessError(f"condition {expr!r} is not emulated")
        result = result and _value(compared.group(1), context) == compared.group(2)[1:-1]
    return result
