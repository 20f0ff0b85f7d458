"""Payload encryption: nothing readable leaves the process for the Temporal server (ARCHITECTURE.md)."""

from __future__ import annotations

import base64
import os
from datetime import date

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from core.codec import ENCODING, KEY_ID, EncryptionCodec, data_converter
from domain.models import CaseInput


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


KEY = _key()


def _plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_payloads_roundtrip_through_the_codec() -> None:
    codec = EncryptionCodec(KEY)
    originals = [_plain('"张三"'), _plain('{"amount": "12000.00"}'), Payload()]
    decoded = await codec.decode(await codec.encode(originals))
    assert decoded == originals


async def test_sealed_payload_is_marked_with_our_encoding_and_key_fingerprint() -> None:
    (sealed,) = await EncryptionCodec(KEY).encode([_plain('"张三"')])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID.decode()]
    assert KEY.encode() not in sealed.metadata[KEY_ID.decode()]


async def test_chinese_name_is_not_readable_in_the_encoded_payload() -> None:
    converter = data_converter(KEY)
    (plain,) = converter.payload_converter.to_payloads(["张三"])
    assert "张三".encode() in plain.data  # readable before the codec
    assert converter.payload_codec is not None
    (sealed,) = await converter.payload_codec.encode([plain])
    assert "张三".encode() not in sealed.data
    assert "张三".encode() not in sealed.SerializeToString()
    assert b"json" not in sealed.SerializeToString()  # not even the inner encoding shows


async def test_data_converter_roundtrips_a_workflow_input() -> None:
    converter = data_converter(KEY)
    case = CaseInput(
        case_id="c-1", case_number="（2026）云0102执123号", court_code="530102", filed_on=date(2026, 11, 20)
    )
    payloads = await converter.encode([case])
    assert "云0102".encode() not in payloads[0].SerializeToString()
    (back,) = await converter.decode(payloads, [CaseInput])
    assert back == case


async def test_same_payload_seals_differently_each_time() -> None:
    codec = EncryptionCodec(KEY)
    first, second = await codec.encode([_plain('"张三"'), _plain('"张三"')])
    assert first.data != second.data


async def test_payload_sealed_with_another_key_is_refused() -> None:
    (sealed,) = await EncryptionCodec(_key()).encode([_plain('"张三"')])
    with pytest.raises(ValueError, match="another key"):
        await EncryptionCodec(KEY).decode([sealed])


async def test_tampered_payload_is_refused() -> None:
    codec = EncryptionCodec(KEY)
    (sealed,) = await codec.encode([_plain('"张三"')])
    flipped = bytes([sealed.data[-1] ^ 1])
    tampered = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + flipped)
    with pytest.raises(InvalidTag):
        await codec.decode([tampered])


async def test_payloads_not_sealed_by_us_pass_through() -> None:
    plain = _plain('"张三"')
    (decoded,) = await EncryptionCodec(KEY).decode([plain])
    assert decoded == plain


async def test_mixed_sealed_and_plain_payloads_decode_in_order() -> None:
    codec = EncryptionCodec(KEY)
    (sealed,) = await codec.encode([_plain('"甲"')])
    decoded = await codec.decode([_plain('"乙"'), sealed])
    assert decoded == [_plain('"乙"'), _plain('"甲"')]


@pytest.mark.parametrize("length", [16, 31, 33])
def test_key_of_the_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptionCodec(base64.b64encode(os.urandom(length)).decode())
