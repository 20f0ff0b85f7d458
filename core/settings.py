"""The one settings class: every knob of Yangguang, read from the environment with the prefix ``YG_``."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"
DEV_PAYLOAD_KEY = "ZGV2LW9ubHktcGF5bG9hZC1rZXktMzItYnl0ZXMhISE="  # 32 bytes, base64; dev only


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YG_", env_file=".env", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite+aiosqlite:///var/yangguang.db"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_api_key: str | None = None
    temporal_tls: bool = False
    task_queue: str = "yangguang-cases"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_ui_url: str = "http://127.0.0.1:8233"

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

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        """Outside dev and test, refuse the dev secrets: a production court must set its own."""
        if self.environment == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError("YG_SECRET_KEY must be set to a random value of 32+ characters")
            if self.payload_key == DEV_PAYLOAD_KEY:
                raise ValueError("YG_PAYLOAD_KEY must be set to a fresh base64 key of 32 bytes")
        if self.sms_provider == "twilio" and not (
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_from
        ):
            raise ValueError("YG_SMS_PROVIDER=twilio needs YG_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM")
        return self
