"""``ci`` and ``secret``: the files a wheels repository commits — generated workflows,
what their runners install, its public key and encrypted settings."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from wheelworks.build.records import Records
from wheelworks.build.targets import build_matrix
from wheelworks.ci import alerts, runner_install
from wheelworks.ci import workflows as ci
from wheelworks.ci.init import init
from wheelworks.cli.options import add_cache_dir, add_config, load_config, load_config_at
from wheelworks.config import secrets
from wheelworks.config.model import Config
from wheelworks.config.settings import Settings
from wheelworks.shared import atomic
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import UsageError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("init", help="make a wheels repository for a project, carrying over its [tool.cibuildwheel]")
    p.add_argument("project", metavar="PROJECT", help="the project: a path or a git URL")
    p.add_argument("--output", type=Path, default=Path("."), help="the wheels repository's folder (default: here)")
    p.add_argument("--name", help="the project's name (default: [project] name of its pyproject.toml)")
    p.add_argument("--subdir", default="", help="where the package is inside the repository (default: its root)")
    p.add_argument("--build-commit", metavar="REF",
                   help="the branch, tag or commit to build (default: the branch the repository's HEAD names)")
    p.add_argument("--ci", action="store_true", help="also write the GitHub workflows and the repository's key pair")
    add_cache_dir(p)
    p.set_defaults(func=_init)

    p = commands.add_parser("ci", help="generate a CI workflow that runs wheelworks")
    p.add_argument("service", choices=["github"], help="the CI service (GitHub Actions)")
    p.add_argument("--config", type=Path, help="wheelworks.toml (default: ./wheelworks.toml)")
    p.add_argument("--output", type=Path, help="default: .github/workflows/wheels.yml (release.yml with --release)")
    p.add_argument("--release", action="store_true", help="the manual workflow that uploads a release to PyPI")
    add_cache_dir(p)
    p.set_defaults(func=_ci)

    p = commands.add_parser("alert", help="on CI, after a scheduled run: open or update the issue about its failures, "
                                          "or close it when the run passed")
    add_config(p)
    p.add_argument("--builds", type=Path, required=True, help="the run's build records (its build jobs' artifacts)")
    p.set_defaults(func=_alert)

    p = commands.add_parser("secret", help="encrypted secrets for wheelworks.toml")
    secret = p.add_subparsers(dest="secret_command", required=True)
    q = secret.add_parser("keygen", help="make this wheels repository's key pair")
    q.add_argument("--public-key", type=Path, default=secrets.PUBLIC_KEY, help="default: .wheelworks/public.pem")
    q.add_argument("--private-key", type=Path, help="write the private key here (default: print it once)")
    q.add_argument("--force", action="store_true", help="replace an existing key pair (old tokens stop working)")
    q.set_defaults(func=_secret_keygen)
    q = secret.add_parser("encrypt", help="encrypt the value on standard input into a wwenc: token")
    q.add_argument("name", help="the setting it is for, e.g. containers.release.secret-access-key")
    q.add_argument("--public-key", type=Path, default=secrets.PUBLIC_KEY, help="default: .wheelworks/public.pem")
    q.set_defaults(func=_secret_encrypt)


def _init(args: argparse.Namespace, settings: Settings) -> None:
    folder = args.output.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        adopted = init(args.project, folder, settings, Path(tmp) / "init.log", name=args.name, subdir=args.subdir,
                       build_commit=args.build_commit)
    for path in adopted.written:
        print(f"wrote {path}")
    for note in adopted.notes:
        print(f"not carried: {note}", file=sys.stderr)
    if args.ci:
        for release in (False, True):
            _write_workflow(load_config_at(adopted.config, settings), folder, settings, release, None)
        private = secrets.write_key_pair(folder / secrets.PUBLIC_KEY, None, False)
        print(f"wrote {folder / secrets.PUBLIC_KEY}; private key, shown once: store it as the CI secret "
              "WHEELWORKS_PRIVATE_KEY", file=sys.stderr)
        sys.stdout.write(private.decode())
    print(f"next: wheelworks build --config {adopted.config} --list, then wheelworks build", file=sys.stderr)


def _ci(args: argparse.Namespace, settings: Settings) -> None:
    _write_workflow(load_config(args, settings), Path.cwd(), settings, args.release, args.output)


def _write_workflow(config: Config, root: Path, settings: Settings, release: bool, output: Path | None) -> None:
    """The workflow of the wheels repository at ``root`` (workflows run from its root)."""
    with tempfile.TemporaryDirectory() as tmp:
        runner_install.prepare(config.ci.install, root, settings.env, Path(tmp) / "pin.log", runner_install.extras_for(config))
        print(f"wrote {root / runner_install.REQUIREMENTS} (what the workflows install, pinned by sha256)")
        if release:
            text = ci.release_workflow(config, root)
        else:
            versions = build_matrix(config, Cache(settings.cache_dir), Path(tmp) / "source.log", settings.env)
            text = ci.wheels_workflow(config, root, versions)
            for line in ci.thrown_away(config, root):
                print(f"warning: {line}", file=sys.stderr)
    output = output or root / ".github" / "workflows" / ("release.yml" if release else "wheels.yml")
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(output, text)
    print(f"wrote {output}")


def _alert(args: argparse.Namespace, settings: Settings) -> None:
    config = load_config(args, settings)
    store = Records(args.builds)
    print(alerts.alert(settings.github, config.project.name, [store.load(i) for i in store.ids()]))


def _secret_keygen(args: argparse.Namespace, settings: Settings) -> None:
    private = secrets.write_key_pair(args.public_key, args.private_key, args.force)
    print(f"public key: {args.public_key} (commit it)", file=sys.stderr)
    if args.private_key:
        print(f"private key: {args.private_key} (keep it out of the repository)", file=sys.stderr)
    else:
        print("private key, shown once: store it as the CI secret WHEELWORKS_PRIVATE_KEY", file=sys.stderr)
        sys.stdout.write(private.decode())


def _secret_encrypt(args: argparse.Namespace, settings: Settings) -> None:
    public = secrets.read_public_key(args.public_key)
    try:
        value = sys.stdin.buffer.read().decode("utf-8").rstrip("\n")
    except UnicodeDecodeError as exc:
        raise UsageError(f"standard input is not UTF-8 text (byte {exc.start})",
                         "secrets are text; base64-encode binary values first") from None
    if not value:
        raise UsageError("no value on standard input", f"echo VALUE | wheelworks secret encrypt {args.name}")
    print(secrets.encrypt(public, args.name, value))
