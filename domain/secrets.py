"""Passwords and query codes: generated with ``secrets``, stored only as argon2 hashes."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
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


def new_query_code() -> str:
    return "".join(secrets.choice(_QUERY_ALPHABET) for _ in range(QUERY_CODE_LENGTH))
