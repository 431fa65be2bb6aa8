"""A container in an S3-compatible bucket (AWS, SeaweedFS, MinIO…) through boto3.

Credentials come from boto3's usual sources (AWS_* variables, ~/.aws, instance roles).
Uploads carry their sha256, which the server checks before storing; ``if_absent`` puts
use ``If-None-Match: *``, so two publishers cannot both create one key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

from wheelworks.config.settings import S3Credentials
from wheelworks.containers import FILES
from wheelworks.shared.errors import ContainerError

_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"}
CHUNK = 1 << 20
# Files above this go up in parts (boto3's managed transfer): memory stays at a few parts,
# and there is no 5 GB limit. Below it, one PUT whose sha256 the server checks.
MULTIPART_THRESHOLD = 64 << 20
IMMUTABLE = "public, max-age=31536000, immutable"  # a year, the longest CDNs honour
CHANGING = "no-cache"  # stored, but checked with the bucket (ETag) before each use


class _Hashing:
    """A file handed to boto3's uploader, hashing the bytes it reads in order. Seekable,
    so that boto3 reads it part by part rather than buffering a stream; a part read again
    (a retry) is not hashed twice."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()
        self.hashed = 0  # bytes hashed so far: the frontier

    def read(self, size: int = -1) -> bytes:
        start = self.stream.tell()
        data = self.stream.read(size)
        if start <= self.hashed < start + len(data):
            self.digest.update(data[self.hashed - start:])
            self.hashed = start + len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()


class S3Store:
    def __init__(self, bucket: str, prefix: str, endpoint: str | None, credentials: S3Credentials) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix}"
        self.endpoint = endpoint or credentials.endpoint
        from botocore.exceptions import BotoCoreError

        region = credentials.region
        try:
            session = boto3.session.Session(
                aws_access_key_id=credentials.access_key_id,
                aws_secret_access_key=credentials.secret_access_key,
                aws_session_token=credentials.session_token,
                profile_name=credentials.profile,
            )
            self.client = session.client(
                "s3",
                endpoint_url=self.endpoint,
                region_name=region,
                # Self-hosted stores rarely have a DNS name per bucket.
                config=Config(s3={"addressing_style": "path"} if self.endpoint else {}, retries={"max_attempts": 3},
                              connect_timeout=10, read_timeout=60),
            )
        except (BotoCoreError, ValueError) as exc:  # an unknown profile, a bad endpoint URL or region
            settings = f"endpoint {self.endpoint!r}, region {region!r}, AWS_PROFILE {credentials.profile or '-'}"
            raise ContainerError(f"container {self.url}: {exc} ({settings})",
                                 "check the container's endpoint and the AWS_* settings") from None

    @classmethod
    def from_url(cls, url: str, endpoint: str | None, credentials: S3Credentials) -> S3Store:
        parts = urlparse(url)
        if not parts.netloc:
            raise ContainerError(f"container url {url!r}: no bucket", "write s3://bucket/prefix")
        return cls(parts.netloc, parts.path, endpoint, credentials)

    def list(self, prefix: str = "") -> dict[str, int]:
        found = {}
        with self._errors("list"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    found[item["Key"][len(self.prefix):]] = item["Size"]
        return found

    def get(self, key: str) -> bytes | None:
        with self._errors(f"read {key}"):
            try:
                body: bytes = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
                return body
            except self.client.exceptions.NoSuchKey:
                return None

    def size(self, key: str) -> int | None:
        head = self._head(key)
        return None if head is None else int(head["ContentLength"])

    def modified(self, key: str) -> float | None:
        head = self._head(key)
        return None if head is None else head["LastModified"].timestamp()

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        with self._errors(f"read {key}"):
            try:
                head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
                return head
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise

    def stream(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        extra = {"Range": f"bytes={start}-{'' if end is None else end - 1}"} if start or end is not None else {}
        with self._errors(f"read {key}"):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key, **extra)["Body"]
            except self.client.exceptions.NoSuchKey:
                raise ContainerError(f"container {self.url}: no file {key}") from None
            with body:
                yield from body.iter_chunks(CHUNK)

    def put(self, key: str, data: bytes | Path, content_type: str, *, sha256: str | None = None,
            if_absent: bool = False) -> bool:
        if isinstance(data, Path) and data.stat().st_size > MULTIPART_THRESHOLD and not if_absent:
            return self._put_parts(key, data, content_type, sha256)
        extra: dict[str, str] = {"CacheControl": cache_control(key)}
        if sha256 is not None:
            extra["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        if if_absent:
            extra["IfNoneMatch"] = "*"
        from botocore.exceptions import ClientError

        with self._errors(f"write {key}"):
            try:
                if isinstance(data, bytes):
                    self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data,
                                           ContentType=content_type, **extra)
                else:
                    with data.open("rb") as body:  # streamed from the file, not read into memory
                        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=body,
                                               ContentType=content_type, **extra)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412") and if_absent:
                    return False
                raise
        return True

    def _put_parts(self, key: str, path: Path, content_type: str, sha256: str | None) -> bool:
        """A large file in parts, each checked by the server (SHA256 part checksums); the
        whole file's sha256 is computed from the bytes sent and compared before returning,
        so no claim ever names bytes other than those stored."""
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=8 << 20,
                                max_concurrency=2, use_threads=True)
        config.max_in_memory_upload_chunks = 2  # parts read ahead into memory: 16 MB at most
        with self._errors(f"write {key}"), path.open("rb") as stream:
            reader = _Hashing(stream)
            self.client.upload_fileobj(reader, self.bucket, self.prefix + key, Config=config,
                                       ExtraArgs={"ContentType": content_type, "ChecksumAlgorithm": "SHA256",
                                                  "CacheControl": cache_control(key)})
        if reader.hashed != path.stat().st_size or (sha256 is not None and reader.digest.hexdigest() != sha256):
            self.delete(key)
            raise ContainerError(f"container {self.url}: {key} changed while it was uploaded (sha256 mismatch)")
        return True

    def delete(self, key: str) -> None:
        with self._errors(f"delete {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """boto3's many exceptions, as one line that says what to do."""
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

        where = f"container {self.url}"
        try:
            yield
        except NoCredentialsError:
            raise ContainerError(
                f"{where}: no S3 credentials found",
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
            ) from None
        except EndpointConnectionError:
            raise ContainerError(f"{where}: cannot reach the S3 endpoint {self.endpoint or 'of AWS'}",
                                 "check the container's endpoint") from None
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code == "NoSuchBucket":
                raise ContainerError(f"{where}: bucket '{self.bucket}' does not exist") from None
            if code in _DENIED:
                raise ContainerError(f"{where}: access denied ({code}) when trying to {action}",
                                     "check the S3 credentials") from None
            if code == "BadDigest":
                raise ContainerError(f"{where}: {action}: the stored bytes did not match their sha256") from None
            raise ContainerError(f"{where}: cannot {action}: {code or exc}") from None
        except BotoCoreError as exc:
            raise ContainerError(f"{where}: cannot {action}: {exc}") from None


def cache_control(key: str) -> str:
    """How long a CDN in front of the bucket may keep ``key``: a file's bytes never change
    under their content-addressed path; indexes, pages and records change with every publish."""
    return IMMUTABLE if key.startswith(FILES) else CHANGING
