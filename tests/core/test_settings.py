"""The settings refuse what is unsafe where it is unsafe (issue 9 item 10): the public development keys outside dev
and test — and outside dev and test is the default —, the outbox provider in production (it sends nothing), and the
development keys on an address other machines reach."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.settings import EnvironmentOnly, Settings

TWILIO: dict[str, Any] = {"twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": "t", "twilio_from": "+15005550"}


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing from the machine: no YG_ variables, no .env file."""
    for name in list(os.environ):
        if name.startswith("YG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _own_keys() -> dict[str, Any]:
    return {
        "secret_key": secrets.token_urlsafe(32),
        "payload_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "public_base_url": "https://zxgk.court.example",
    }


def test_a_process_started_without_an_environment_refuses_the_development_keys() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings()
    text = str(refused.value)
    assert "YG_SECRET_KEY" in text and "YG_PAYLOAD_KEY" in text and "YG_ENVIRONMENT=dev" in text
    assert EnvironmentOnly().environment == "production"


def test_production_refuses_the_outbox_provider_that_sends_nothing() -> None:
    with pytest.raises(ValidationError, match="YG_SMS_PROVIDER=outbox"):
        Settings(environment="production", sms_provider="outbox", **_own_keys())


def test_production_with_its_own_keys_and_a_real_provider_starts() -> None:
    settings = Settings(environment="production", sms_provider="twilio", **TWILIO, **_own_keys())
    assert settings.environment == "production"


def test_production_needs_the_portal_s_public_address() -> None:
    """The filing SMS and the QR code carry it: this API's own loopback address would lead parties nowhere."""
    keys = {k: v for k, v in _own_keys().items() if k != "public_base_url"}
    with pytest.raises(ValidationError, match="YG_PUBLIC_BASE_URL"):
        Settings(environment="production", sms_provider="twilio", **TWILIO, **keys)


@pytest.mark.parametrize("address", ["javascript:alert(1)", "https://court.example/portal?x=1", "court.example"])
def test_the_public_address_is_an_http_address(address: str) -> None:
    with pytest.raises(ValidationError, match="YG_PUBLIC_BASE_URL"):
        Settings(environment="test", public_base_url=address)


def test_dev_defaults_the_public_address_to_the_api_s_own() -> None:
    assert Settings(environment="dev", api_port=8123).public_base_url == "http://127.0.0.1:8123"
    assert (
        Settings(environment="test", public_base_url="https://a.example/yg/").public_base_url == "https://a.example/yg"
    )


@pytest.mark.parametrize("environment", ["dev", "test"])
def test_dev_and_test_keep_the_development_keys_and_the_outbox(environment: str) -> None:
    settings = Settings(environment=environment)
    assert settings.sms_provider == "outbox"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "court.example"])
def test_the_development_keys_never_sign_tokens_on_a_reachable_address(host: str) -> None:
    with pytest.raises(ValidationError, match=f"YG_API_HOST={host}"):
        Settings(environment="dev", api_host=host)
    Settings(environment="dev", api_host=host, **_own_keys())  # its own keys: fine


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_the_development_keys_serve_this_machine(host: str) -> None:
    Settings(environment="dev", api_host=host)
