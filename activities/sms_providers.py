"""SMS providers: the built-in outbox (default, shown in the console) and Twilio (decision 8)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

from core.settings import Settings

# Twilio errors that belong to the recipient: sending again will never work (Twilio error dictionary).
# Everything else (bad credentials, rate limits, outages) is retried, so a fixed setting still delivers.
RECIPIENT_ERRORS = frozenset({21211, 21408, 21610, 21612, 21614})
HTTP_TIMEOUT_SECONDS = 30
# How far back a crashed send is looked for, allowing for clock differences with the provider.
LOOKUP_MARGIN = timedelta(minutes=5)
# The client logs every request at INFO, the recipient's full number with it (decision 6: none in worker.log).
TWILIO_HTTP_LOGGER = "twilio.http_client"


class PermanentSmsError(Exception):
    """The provider refused the message for good (invalid or blocked number): retrying will not help."""


class SmsProvider(Protocol):
    name: str

    async def send(self, to: str, body: str) -> str:
        """Hand the message over; return the provider's id for it."""
        ...

    async def find(self, to: str, body: str, since: datetime) -> str | None:
        """The id of a message already accepted for this number and text since ``since``, if any."""
        ...


class OutboxProvider:
    """Keeps messages in the outbox for the console; nothing leaves the machine."""

    name = "outbox"

    async def send(self, to: str, body: str) -> str:
        return "outbox"

    async def find(self, to: str, body: str, since: datetime) -> str | None:
        return None


class TwilioProvider:
    """The official Twilio client; ``base_url`` points it at a stub in tests or a regional gateway."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, sender: str, base_url: str | None = None) -> None:
        quiet = logging.getLogger(TWILIO_HTTP_LOGGER)
        if quiet.getEffectiveLevel() < logging.WARNING:
            quiet.setLevel(logging.WARNING)
        self._client = TwilioClient(account_sid, auth_token, http_client=TwilioHttpClient(timeout=HTTP_TIMEOUT_SECONDS))
        if base_url:
            self._client.api.base_url = base_url.rstrip("/")
        self._sender = sender

    async def send(self, to: str, body: str) -> str:
        def _send() -> str:
            try:
                msg = self._client.messages.create(to=_e164(to), from_=self._sender, body=body)
            except TwilioRestException as e:
                if e.code in RECIPIENT_ERRORS:
                    raise PermanentSmsError(f"twilio {e.status} {e.code}") from None
                raise
            return str(msg.sid)

        return await asyncio.to_thread(_send)

    async def find(self, to: str, body: str, since: datetime) -> str | None:
        """Match on recipient and text by creation time: a queued message has no send date yet."""
        after = since.astimezone(UTC) - LOOKUP_MARGIN

        def _find() -> str | None:
            for msg in self._client.messages.list(to=_e164(to), limit=200):
                created = msg.date_created
                if msg.body == body and (created is None or created.astimezone(UTC) >= after):
                    return str(msg.sid)
            return None

        return await asyncio.to_thread(_find)


def _e164(national: str) -> str:
    return national if national.startswith("+") else "+86" + national


def build_provider(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "twilio":
        return TwilioProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from,
            settings.twilio_base_url,
        )
    return OutboxProvider()
