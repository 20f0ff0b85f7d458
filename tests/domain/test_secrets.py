"""Passwords and query codes (seed 001 第九条): generated at random, stored only as argon2 hashes."""

from __future__ import annotations

import asyncio

import domain.secrets
from domain.secrets import HASH_THREADS, QUERY_CODE_LENGTH, hash_secret, hashed, new_query_code, verified, verify_secret


def test_hashed_query_code_verifies() -> None:
    code = new_query_code()
    assert verify_secret(hash_secret(code), code)


def test_wrong_query_code_is_refused() -> None:
    stored = hash_secret("AB23CD45")
    assert not verify_secret(stored, "AB23CD46")
    assert not verify_secret(stored, "ab23cd45")
    assert not verify_secret(stored, "")


def test_hash_does_not_contain_the_secret() -> None:
    stored = hash_secret("AB23CD45")
    assert "AB23CD45" not in stored
    assert stored.startswith("$argon2")


def test_same_secret_hashes_differently_each_time() -> None:
    assert hash_secret("AB23CD45") != hash_secret("AB23CD45")


def test_corrupt_stored_hash_is_refused_not_raised() -> None:
    assert not verify_secret("not-a-hash", "AB23CD45")


def test_password_with_chinese_characters_roundtrips() -> None:
    assert verify_secret(hash_secret("阳光执行2026!"), "阳光执行2026!")


def test_query_code_is_eight_characters_easy_to_read_off_a_phone() -> None:
    assert QUERY_CODE_LENGTH == 8
    codes = [new_query_code() for _ in range(500)]
    for code in codes:
        assert len(code) == 8
        assert code.isascii()
        assert code.isalnum()
        assert code == code.upper()
        assert not set(code) & set("0O1IL")


def test_query_codes_differ_from_case_to_case() -> None:
    codes = {new_query_code() for _ in range(500)}
    assert len(codes) == 500


async def test_async_hashing_verifies_and_keeps_the_event_loop_serving() -> None:
    """Ten logins at once: each verifies, at most HASH_THREADS run together, and the loop keeps ticking."""
    stored = await hashed("AB23CD45")
    ticks = 0
    running = peak = 0
    original = domain.secrets.verify_secret

    def counting(secret_hash: str, secret: str) -> bool:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            return original(secret_hash, secret)
        finally:
            running -= 1

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    domain.secrets.verify_secret = counting
    try:
        results = await asyncio.gather(*(verified(stored, "AB23CD45" if i % 2 else "wrong") for i in range(10)))
    finally:
        domain.secrets.verify_secret = original
        ticker.cancel()
    assert results == [False, True] * 5
    assert peak == HASH_THREADS
    assert ticks >= 10  # ten argon2 verifications take far longer than 0.1 s; the loop ran meanwhile
