"""Masking personal data for anything shown beyond the case's own parties (seed 002 第一条)."""

from __future__ import annotations


def mask_id_number(id_number: str) -> str:
    """A resident ID keeps its first 4 and last 2 characters: 5301************12."""
    text = id_number.strip()
    if len(text) <= 6:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 6) + text[-2:]


def mask_name(name: str) -> str:
    """A person's name keeps its surname: 张**."""
    text = name.strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else ""
