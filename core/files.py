"""The file store: documents and attachments kept by the sha256 of their bytes (issue 10 items 3, 7).

A file is accepted only for what its bytes are, never for its name: the type is sniffed from the content
(``filetype``), and only PDF, JPEG, PNG and WebP are taken — a ``.pdf`` that is really HTML is refused. Its size
is bounded by ``YG_FILE_MAX_BYTES``. Where it is kept is derived from its hash alone, so no name or path a user
sent ever reaches the file system or the bucket; the same bytes stored twice are one file.

Two backends, chosen by ``YG_FILE_STORE``:

- ``folder`` (default): ``<YG_FILE_DIR>/ab/cd/abcd…`` — written to a temporary file in the same folder, flushed
  and renamed, so a crash leaves no half file under a hash's name;
- ``s3``: an S3-compatible bucket (AWS, MinIO, Ceph …) through boto3, key ``<YG_S3_PREFIX><sha256>``.

The methods are synchronous (file and network I/O); async callers use ``aput`` / ``aopen``, which run them on a
worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import filetype

from core.settings import Settings
from domain.errors import NotFound, PayloadTooLarge, UnsupportedMediaType

# What a court takes: documents as PDF, photos and scans as images. The extension a download is given.
ACCEPTED: dict[str, str] = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}
ACCEPTED_LABEL = "PDF、JPEG、PNG、WebP"
# A name's extension, when it has one, must name what the bytes are (a ``.jpg`` that is a PNG is still refused:
# someone mislabelled it, and the party would be handed a file that lies about itself).
_EXTENSIONS: dict[str, str] = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str

    @property
    def extension(self) -> str:
        return ACCEPTED[self.content_type]


def sniff(data: bytes) -> str | None:
    """The MIME type the bytes are, if they are one the store accepts."""
    mime = filetype.guess_mime(data[:8192])
    return mime if mime in ACCEPTED else None


def check(data: bytes, *, filename: str | None, max_bytes: int) -> StoredFile:
    """The file's hash, size and type, or the refusal: too large, empty, or not an accepted type."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"文件过大：单个文件不能超过 {_size(max_bytes)} (file larger than {max_bytes} bytes)")
    if not data:
        raise UnsupportedMediaType("文件为空，请重新选择文件 (empty file)")
    mime = sniff(data)
    if mime is None:
        raise UnsupportedMediaType(
            f"只接受 {ACCEPTED_LABEL} 文件，该文件的内容不是其中之一 (file content is not an accepted type)"
        )
    if filename is not None:
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if ext and _EXTENSIONS.get(ext) != mime:
            raise UnsupportedMediaType(
                f"文件扩展名“.{ext[:10]}”与文件内容（{ACCEPTED[mime].upper()}）不符，只接受 {ACCEPTED_LABEL} 文件 "
                "(file name does not match its content)"
            )
    return StoredFile(sha256=hashlib.sha256(data).hexdigest(), size=len(data), content_type=mime)


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n} 字节"


def _checked_hash(sha256: str) -> str:
    if not SHA256.match(sha256):
        raise NotFound("文件不存在 (no such file)")
    return sha256


class Backend(Protocol):
    def exists(self, sha256: str) -> bool: ...
    def write(self, stored: StoredFile, data: bytes) -> None: ...
    def read(self, sha256: str) -> bytes | None: ...


class FolderBackend:
    """Files under a folder, two levels of hash prefix; written by rename, so never seen half written."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def write(self, stored: StoredFile, data: bytes) -> None:
        path = self._path(stored.sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, sha256: str) -> bytes | None:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None


class S3Backend:
    """Files in an S3-compatible bucket, one object per hash."""

    def __init__(self, client: Any, *, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Backend:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
        )
        return cls(client, bucket=settings.s3_bucket, prefix=settings.s3_prefix)

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}{sha256}"

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def write(self, stored: StoredFile, data: bytes) -> None:
        # One PUT: an object is visible whole or not at all.
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(stored.sha256), Body=data, ContentType=stored.content_type
        )

    def read(self, sha256: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        body: bytes = answer["Body"].read()
        return body


class Upload(Protocol):
    """A file as a request carries it (starlette's ``UploadFile``): read up to ``size`` bytes."""

    async def read(self, size: int = -1) -> bytes: ...


class FileStore:
    """``put`` checks and keeps a file, ``open`` gives it back by its hash (checked against the bytes read)."""

    def __init__(self, backend: Backend, *, max_bytes: int) -> None:
        self.backend = backend
        self.max_bytes = max_bytes

    def put(self, data: bytes, *, filename: str | None = None) -> StoredFile:
        stored = check(data, filename=filename, max_bytes=self.max_bytes)
        if not self.backend.exists(stored.sha256):
            self.backend.write(stored, data)
        return stored

    def open(self, sha256: str) -> bytes:
        data = self.backend.read(_checked_hash(sha256))
        if data is None or hashlib.sha256(data).hexdigest() != sha256:
            # Missing, or not what was stored: never hand a party bytes whose hash its receipt would not show.
            raise NotFound("文件不存在或已损坏，请联系法院 (file missing or damaged)")
        return data

    async def read_upload(self, upload: Upload, *, name: str) -> bytes:
        """An uploaded file's bytes, refused past the store's limit before more is read (the edge bounds only the
        whole request); ``name`` is the file's as the sender knows it, for the refusal."""
        data = await upload.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise PayloadTooLarge(f"文件“{name}”过大：单个文件不能超过 {_size(self.max_bytes)} (file too large)")
        return data

    async def aput(self, data: bytes, *, filename: str | None = None) -> StoredFile:
        return await asyncio.to_thread(self.put, data, filename=filename)

    async def aopen(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self.open, sha256)


def build_store(settings: Settings) -> FileStore:
    """The store ``YG_FILE_STORE`` names, with the size limit of ``YG_FILE_MAX_BYTES``."""
    s3 = settings.file_store == "s3"
    backend: Backend = S3Backend.from_settings(settings) if s3 else FolderBackend(settings.file_dir)
    return FileStore(backend, max_bytes=settings.file_max_bytes)
