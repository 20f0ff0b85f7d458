"""Payload encryption: every Temporal payload is sealed with AES-GCM before it leaves the process."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/yg-aes256gcm"
KEY_ID = b"yg-key-id"


def _key_id(key: bytes) -> bytes:
    """A short public fingerprint of the key, so a rotated key is recognised rather than mis-decrypted."""
    return hashlib.sha256(key).hexdigest()[:12].encode()


class EncryptionCodec(PayloadCodec):
    """Seals payloads with AES-256-GCM; payloads without our encoding pass through untouched."""

    def __init__(self, key_b64: str) -> None:
        key = base64.b64decode(key_b64)
        if len(key) != 32:
            raise ValueError("payload key must be 32 bytes (base64)")
        self._aead = AESGCM(key)
        self._key_id = _key_id(key)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(
                metadata={"encoding": ENCODING, KEY_ID.decode(): self._key_id},
                data=self._seal(p.SerializeToString()),
            )
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out: list[Payload] = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)
                continue
            if p.metadata.get(KEY_ID.decode()) != self._key_id:
                raise ValueError("payload sealed with another key")
            inner = Payload()
            inner.ParseFromString(self._open(p.data))
            out.append(inner)
        return out

    def _seal(self, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, None)

    def _open(self, data: bytes) -> bytes:
        return self._aead.decrypt(data[:12], data[12:], None)


def data_converter(key_b64: str) -> DataConverter:
    """The pydantic converter wrapped with our codec: used by every client, worker, test and replayer."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(key_b64))
