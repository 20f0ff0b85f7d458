"""Passwords and query codes: generated with ``secrets``, stored only as argon2 hashes.

Hashing is slow on purpose: argon2id with OWASP's recommended minimum (2 passes over 19 MiB, one lane; OWASP
Password Storage Cheat Sheet), about a fifth of argon2-cffi's default (3 passes over 64 MiB), which made the
query code of every filing SMS cost 0.2 s of CPU. Guessing stays bounded by the portal's lockout and the staff
login's throttling, not by the hash alone. Hashes made with other parameters still verify (they carry theirs).
Async code uses ``hashed`` and ``verified``: they run on a small pool of threads, so the event loop keeps serving
and at most ``HASH_THREADS`` buffers are in memory at once, whatever the load. A query code hashed for an SMS
(``hashed_in_background``) waits for no one on a page, so its threads run at a low CPU priority: under a burst of
filings the people filing and recording go first, and the SMS follow as soon as a core is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
HASH_THREADS = 2
BACKGROUND_NICE = 10  # a nice-10 thread gets about a tenth of a busy core beside nice-0 work (Linux CFS weights)
_POOL = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")


def _lower_priority() -> None:
    """Linux gives each thread its own nice value; elsewhere the thread keeps its priority."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)


_BACKGROUND_POOL = ThreadPoolExecutor(
    max_workers=HASH_THREADS, thread_name_prefix="argon2-background", initializer=_lower_priority
)
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


async def hashed_in_background(secret: str) -> str:
    """``hashed`` for work no one waits on (the query code of an SMS), at a low CPU priority."""
    return await asyncio.get_running_loop().run_in_executor(_BACKGROUND_POOL, hash_secret, secret)


async def verified(secret_hash: str, secret: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_POOL, verify_secret, secret_hash, secret)


def new_query_code() -> str:
    return "".join(secrets.choice(_QUERY_ALPHABET) for _ in range(QUERY_CODE_LENGTH))
