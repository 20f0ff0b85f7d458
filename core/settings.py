"""The one settings class: every knob of Yangguang, read from the environment with the prefix ``YG_``."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"
DEV_PAYLOAD_KEY = "ZGV2LW9ubHktcGF5bG9hZC1rZXktMzItYnl0ZXMhISE="  # 32 bytes, base64; dev only
# Where the development keys (public: they are in this file) and the demo users may be used. Anything else is a
# court's installation, and the default: a process started without YG_ENVIRONMENT never signs tokens with a key
# everyone knows (``make run`` and the tests say dev and test).
DEV_ENVIRONMENTS = ("dev", "test")
Environment = Literal["dev", "test", "production"]


class EnvironmentOnly(BaseSettings):
    """Just ``YG_ENVIRONMENT``, read as Settings reads it: for a tool that must refuse before anything else is
    checked (``python -m db.demo`` in production)."""

    model_config = SettingsConfigDict(env_prefix="YG_", env_file=".env", extra="ignore")

    environment: Environment = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YG_", env_file=".env", extra="ignore")

    environment: Environment = "production"
    database_url: str = "sqlite+aiosqlite:///var/yangguang.db"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_api_key: str | None = None
    temporal_tls: bool = False
    task_queue: str = "yangguang-cases"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_ui_url: str = "http://127.0.0.1:8233"
    # Browser origins allowed to call the codec endpoint (api/routes/codec.py), comma-separated; unset: the origin of
    # temporal_ui_url.
    codec_cors_origins: str = ""
    # Where parties reach the portal (the filing SMS's link, the case QR code): the court's public address, e.g.
    # https://zxgk.example-court.gov.cn. Unset: this API's own address (dev only; production must set it).
    public_base_url: str = ""

    secret_key: str = DEV_SECRET
    token_minutes: int = 8 * 60
    payload_key: str = DEV_PAYLOAD_KEY

    sms_provider: Literal["outbox", "twilio"] = "outbox"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_base_url: str | None = None

    # Continue-as-new once a run has handled this many updates and signals (ARCHITECTURE.md decision 7).
    max_events_per_run: int = 2000

    # Request bodies are refused past these sizes before they are read (api/edge.py): JSON and forms, and the
    # paths that take file uploads (api/edge.py UPLOAD_PATHS).
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024

    # The file store (core/files.py): content-addressed, a folder under var/ or an S3-compatible bucket.
    file_store: Literal["folder", "s3"] = "folder"
    file_dir: str = "var/files"
    file_max_bytes: int = 10 * 1024 * 1024  # one file; a request of several files is bounded by max_upload_bytes
    s3_bucket: str = ""
    s3_prefix: str = "files/"
    s3_endpoint_url: str | None = None  # MinIO, Ceph, a cloud's S3-compatible service; unset: AWS
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None  # unset: boto3's usual credential chain
    s3_secret_access_key: str | None = None
    # Count limits on uploads: documents a case takes per day, files one party message carries.
    max_documents_per_case_per_day: int = 50
    max_files_per_message: int = 10

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        """Outside dev and test, refuse the dev secrets and the outbox provider: a production court sets its own
        keys and really sends its SMS. Even in dev, the dev keys never sign tokens on a reachable address."""
        problems: list[str] = []
        dev_keys = self.secret_key == DEV_SECRET or self.payload_key == DEV_PAYLOAD_KEY
        if self.environment not in DEV_ENVIRONMENTS:
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                problems.append("YG_SECRET_KEY must be set to a random value of 32+ characters")
            if self.payload_key == DEV_PAYLOAD_KEY:
                problems.append("YG_PAYLOAD_KEY must be set to a fresh base64 key of 32 bytes")
            if not self.public_base_url:
                problems.append("YG_PUBLIC_BASE_URL must be set to the portal's public address (SMS links, QR codes)")
            if self.sms_provider == "outbox":
                problems.append(
                    "YG_SMS_PROVIDER=outbox only marks messages sent, it sends nothing: set YG_SMS_PROVIDER=twilio"
                )
        elif dev_keys and not _loopback(self.api_host):
            problems.append(
                f"YG_API_HOST={self.api_host} is reachable from other machines, where the public development keys "
                "would sign anyone's tokens: set YG_SECRET_KEY and YG_PAYLOAD_KEY, or bind 127.0.0.1"
            )
        if self.sms_provider == "twilio" and not (
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_from
        ):
            problems.append("YG_SMS_PROVIDER=twilio needs YG_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM")
        if self.file_store == "s3" and not self.s3_bucket:
            problems.append("YG_FILE_STORE=s3 needs YG_S3_BUCKET")
        if self.file_max_bytes > self.max_upload_bytes:
            problems.append("YG_FILE_MAX_BYTES must not exceed YG_MAX_UPLOAD_BYTES (the upload request's limit)")
        if self.public_base_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", self.public_base_url):
            problems.append(f"YG_PUBLIC_BASE_URL={self.public_base_url} is not an http(s) address without query")
        self.public_base_url = (self.public_base_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")
        if problems:
            hint = "" if self.environment in DEV_ENVIRONMENTS else " (YG_ENVIRONMENT=dev on a development machine)"
            raise ValueError(f"YG_ENVIRONMENT={self.environment}{hint}: " + "; ".join(problems))
        return self


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything
