"""Encrypted secrets: made by the CLI, decrypted only with the repository's key, masked everywhere."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from wheelworks.shared import atomic
from wheelworks import cli
from wheelworks.config import secrets
from wheelworks.shared.errors import SecretError

SECRET = "s3cr3t-license-4f9a1c"


def _keygen(folder: Path, capsys) -> tuple[Path, Path]:
    public, private = folder / ".wheelworks" / "public.pem", folder / "private.pem"
    assert cli.main(["secret", "keygen", "--public-key", str(public), "--private-key", str(private)]) == 0
    capsys.readouterr()
    return public, private


def _encrypt(public: Path, name: str, value: str, monkeypatch, capsys) -> str:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(value.encode() + b"\n")))
    assert cli.main(["secret", "encrypt", name, "--public-key", str(public)]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("wwenc:") and value not in token
    return token


def test_round_trip_and_the_wrong_key(tmp_path, monkeypatch, capsys):
    public, private = _keygen(tmp_path / "a", capsys)
    _, other = _keygen(tmp_path / "b", capsys)
    assert (private.stat().st_mode & 0o777) == 0o600
    token = _encrypt(public, "build.environment.LICENSE", SECRET, monkeypatch, capsys)

    assert secrets.reveal(token, "build.environment.LICENSE", secrets.private_key({"WHEELWORKS_PRIVATE_KEY_FILE": str(private)})) == SECRET
    with pytest.raises(SecretError, match="encrypted for another repository's key"):
        secrets.reveal(token, "build.environment.LICENSE", secrets.private_key({"WHEELWORKS_PRIVATE_KEY": other.read_text()}))
    with pytest.raises(SecretError, match="made for another field"):
        secrets.reveal(token, "containers.release.secret-access-key", secrets.private_key({"WHEELWORKS_PRIVATE_KEY_FILE": str(private)}))
    with pytest.raises(SecretError, match="neither WHEELWORKS_PRIVATE_KEY nor WHEELWORKS_PRIVATE_KEY_FILE is set"):
        secrets.reveal(token, "build.environment.LICENSE", secrets.private_key({}))


def test_keygen_prints_the_private_key_once_and_keeps_an_existing_pair(tmp_path, capsys):
    public = tmp_path / "public.pem"
    assert cli.main(["secret", "keygen", "--public-key", str(public)]) == 0
    assert capsys.readouterr().out.startswith("-----BEGIN PRIVATE KEY-----")
    assert cli.main(["secret", "keygen", "--public-key", str(public)]) == 8  # a SecretError
    assert "exists" in capsys.readouterr().err


@pytest.mark.slow
def test_secrets_are_masked_in_logs_and_records(make_config, pythons, cache_dir, tmp_path, monkeypatch, capsys):
    secret, credential = f"license-{uuid.uuid4().hex}", f"AKIA-{uuid.uuid4().hex}"  # new to this process
    public, private = _keygen(tmp_path, capsys)
    token = _encrypt(public, "build.environment.TALLY_LICENSE", secret, monkeypatch, capsys)
    config = make_config(build=f"""
        [build]
        python = {pythons[-1:]!r}
        environment = {{ TALLY_LICENSE = "{token}" }}
        before-build = "echo license=$TALLY_LICENSE key=$AWS_SECRET_ACCESS_KEY; test $TALLY_LICENSE = {secret}"
    """)
    monkeypatch.setenv("WHEELWORKS_PRIVATE_KEY_FILE", str(private))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credential)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir)]) == 0

    out = capsys.readouterr().out
    assert f"::add-mask::{secret}" in out and f"::add-mask::{credential}" in out
    builds = list((config.parent / "builds").rglob("*"))
    texts = [p.read_text() for p in builds if p.is_file()]
    assert texts and not any(secret in t or credential in t for t in texts)
    # The hook ran with the secret the config gave the build, and without the machine's credential.
    assert any("license=*** key=\n" in t for t in texts)


def test_a_token_for_another_key_fails_the_build_in_one_line(make_config, tmp_path, monkeypatch, capsys):
    public, _ = _keygen(tmp_path / "a", capsys)
    _, other = _keygen(tmp_path / "b", capsys)
    token = _encrypt(public, "containers.release.secret-access-key", SECRET, monkeypatch, capsys)
    config = make_config()
    config.write_text(config.read_text() + f"""
[containers.release]
url = "s3://wheels/release"
branches = ["v*"]
access-key-id = "someone"
secret-access-key = "{token}"
""")
    (tmp_path / "wh").mkdir()
    monkeypatch.setenv("WHEELWORKS_PRIVATE_KEY_FILE", str(other))
    assert cli.main(["release", "--config", str(config), "-w", str(tmp_path / "wh"), "pytally", "1.0"]) == 8
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "secret 'containers.release.secret-access-key' was encrypted for another repository's key" in err[0]


def test_the_private_key_file_is_its_owners_alone_even_over_an_old_one(tmp_path, capsys):
    private = tmp_path / "private.pem"
    private.write_text("old")
    private.chmod(0o644)
    assert cli.main(["secret", "keygen", "--public-key", str(tmp_path / "public.pem"), "--private-key", str(private),
                     "--force"]) == 0
    assert private.stat().st_mode & 0o777 == 0o600 and private.read_text().startswith("-----BEGIN")
    assert (tmp_path / "public.pem").stat().st_mode & 0o777 == atomic.file_mode()  # to commit and share
