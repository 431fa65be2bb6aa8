"""Encrypted secrets in wheelworks.toml, and masking of every secret wheelworks handles.

A wheels repository has its own RSA key pair: the public key is committed as
``.wheelworks/public.pem``; the private key lives only in CI's secret store (as
WHEELWORKS_PRIVATE_KEY) or a file (WHEELWORKS_PRIVATE_KEY_FILE). ``encrypt`` makes a
``wwenc:`` token: a random AES-256-GCM key encrypts the value, with the secret's name as
associated data, and RSA-OAEP wraps that key. Each token names the key it was made for.

Every decrypted value is registered with ``masking``, so it never appears in what
wheelworks writes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wheelworks.shared import atomic
from wheelworks.shared.errors import SecretError
from wheelworks.shared.masking import register

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.padding import OAEP

PREFIX = "wwenc:"
PUBLIC_KEY = Path(".wheelworks") / "public.pem"
KEY_VAR, KEY_FILE_VAR = "WHEELWORKS_PRIVATE_KEY", "WHEELWORKS_PRIVATE_KEY_FILE"


def keygen() -> tuple[bytes, bytes]:
    """A new RSA key pair for one wheels repository: (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def write_key_pair(public_path: Path, private_path: Path | None, force: bool) -> bytes:
    """Make a key pair: the public key to ``public_path``, the private one to
    ``private_path`` (readable by its owner only) or, without it, returned to be shown once."""
    if public_path.exists() and not force:
        raise SecretError(f"{public_path} exists", "--force makes a new pair; tokens made for the old one stop working")
    private, public = keygen()
    if private_path is not None:  # 0600 even over an older, readable file of that name
        atomic.write_bytes(private_path, private, mode=0o600)
    atomic.write_bytes(public_path, public)
    return private


def read_public_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SecretError(f"{path}: {exc.strerror}", "run `wheelworks secret keygen` first") from None


def key_id(public_key: object) -> str:
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER,  # type: ignore[attr-defined]
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def _oaep() -> OAEP:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def encrypt(public_pem: bytes, name: str, value: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        public = serialization.load_pem_public_key(public_pem)
    except ValueError as exc:
        raise SecretError(f"not a PEM public key: {exc}") from None
    if not isinstance(public, rsa.RSAPublicKey):  # RSA-OAEP wraps the value's key: nothing else can
        raise SecretError(f"the public key is {type(public).__name__.removeprefix('_')}, not RSA",
                          "make the repository's key pair with `wheelworks secret keygen`")
    key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
    payload = {
        "v": 1,
        "kid": key_id(public),
        "name": name,
        "key": _b64(public.encrypt(key, _oaep())),
        "nonce": _b64(nonce),
        "data": _b64(AESGCM(key).encrypt(nonce, value.encode(), name.encode())),
    }
    return PREFIX + base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decrypt(token: str, private_pem: bytes, name: str) -> str:
    """The value of the token for secret ``name``; raises SecretError with the reason."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        payload = json.loads(base64.urlsafe_b64decode(token[len(PREFIX):].encode()))
        wrapped, nonce, data = (base64.b64decode(payload[k]) for k in ("key", "nonce", "data"))
    except (ValueError, KeyError, TypeError):
        raise SecretError(f"secret '{name}' is not a valid {PREFIX} token", "encrypt it again") from None
    try:
        private = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SecretError(f"{KEY_VAR} is not a PEM private key without a passphrase ({exc})") from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise SecretError(f"{KEY_VAR} is a {type(private).__name__.removeprefix('_')}, not an RSA private key",
                          "use the private key `wheelworks secret keygen` made")
    mine = key_id(private.public_key())
    if payload.get("kid") != mine:
        raise SecretError(
            f"secret '{name}' was encrypted for another repository's key (key id {payload.get('kid')}; "
            f"this private key's id is {mine})",
            "encrypt it again with this repository's .wheelworks/public.pem",
        )
    try:
        key = private.decrypt(wrapped, _oaep())
        value = AESGCM(key).decrypt(nonce, data, name.encode()).decode()
    except (ValueError, InvalidTag):
        raise SecretError(f"secret '{name}' cannot be decrypted: the token is damaged, or was made for another field",
                          "encrypt it again") from None
    register(value)
    return value


@dataclass(frozen=True)
class PrivateKey:
    """The wheels repository's private key as the environment gave it, or why it could
    not be read: said only when a secret needs it."""

    pem: bytes | None = field(default=None, repr=False)
    problem: str | None = None

    def get(self) -> bytes | None:
        if self.problem:
            raise SecretError(self.problem)
        return self.pem


def private_key(env: Mapping[str, str]) -> PrivateKey:
    """The key from WHEELWORKS_PRIVATE_KEY or the file WHEELWORKS_PRIVATE_KEY_FILE names,
    registered for masking at once, like every secret."""
    if env.get(KEY_VAR):
        return PrivateKey(env[KEY_VAR].encode())
    if env.get(KEY_FILE_VAR):
        try:
            pem = Path(env[KEY_FILE_VAR]).expanduser().read_bytes()
        except OSError as exc:
            return PrivateKey(problem=f"{KEY_FILE_VAR}: cannot read {env[KEY_FILE_VAR]}: {exc.strerror}")
        register(pem.decode("utf-8", "replace"))  # masked like the variable's value: never shown
        return PrivateKey(pem)
    return PrivateKey()


def reveal(value: str, name: str, key: PrivateKey) -> str:
    """``value`` itself, or, for a ``wwenc:`` token, the secret it holds."""
    if not value.startswith(PREFIX):
        return value
    pem = key.get()
    if pem is None:
        raise SecretError(f"secret '{name}' is encrypted, but neither {KEY_VAR} nor {KEY_FILE_VAR} is set",
                          "give the wheels repository's private key")
    return decrypt(value, pem, name)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
