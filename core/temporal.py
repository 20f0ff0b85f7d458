"""Connecting to Temporal the one way every process does it."""

from __future__ import annotations

from temporalio.client import Client

from core.codec import data_converter
from core.settings import Settings


async def connect(settings: Settings) -> Client:
    """A client with our data converter; TLS and API key for Temporal Cloud or a secured cluster."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings.payload_key),
        api_key=settings.temporal_api_key,
        tls=settings.temporal_tls,
    )
