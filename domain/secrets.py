"""Passwords and query codes: generated with ``secrets``, stored only as argon2 hashes.

Hashing is slow on purpose (argon2-cffi defaults: 3 passes over 64 MiB). Async code uses ``hashed`` and
``verified``: they run on a small pool of threads, so the event loop keeps serving and at most ``HASH_THREADS``
buffers of 64 MiB are in memory at once, whatever the load.
"""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
HASH_THREADS = 2
_POOL = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")
# No 0/O, 1/I/L: a query code is read off a phone screen and typed by hand (seed 001 第九条).
_QUERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 8


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    try:
        return _HASHER.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


async def hashed(secret: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_POOL, hash_secret, secret)


async def verified(secret_hash: str, secret: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_POOL, verify_secret, secret_hash, secret)


def new_query_code() -> str:
    return "".join(secrets.choice(_QUERY_ALPHABET) for _ in range(QUERY_CODE_LENGTH))
