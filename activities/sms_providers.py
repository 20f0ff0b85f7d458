"""SMS providers: the built-in outbox (default, shown in the console) and Twilio (decision 8)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Protocol

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client as TwilioClient

from core.settings import Settings


class PermanentSmsError(Exception):
    """The provider refused the message for good (bad number, blocked): retrying will not help."""


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
        self._client = TwilioClient(account_sid, auth_token)
        if base_url:
            self._client.api.base_url = base_url.rstrip("/")
        self._sender = sender

    async def send(self, to: str, body: str) -> str:
        def _send() -> str:
            try:
                msg = self._client.messages.create(to=_e164(to), from_=self._sender, body=body)
            except TwilioRestException as e:
                if 400 <= e.status < 500 and e.status != 429:
                    raise PermanentSmsError(f"twilio {e.status} {e.code}") from None
                raise
            return str(msg.sid)

        return await asyncio.to_thread(_send)

    async def find(self, to: str, body: str, since: datetime) -> str | None:
        def _find() -> str | None:
            for msg in self._client.messages.list(to=_e164(to), date_sent_after=since - timedelta(minutes=5)):
                if msg.body == body:
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
