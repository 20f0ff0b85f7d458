"""The portal's public address for one case (seed 004: the case QR code; seed 001 第九条: the filing SMS)."""

from __future__ import annotations

from urllib.parse import quote

PORTAL_PATH = "/portal"


def portal_link(public_base_url: str, case_number: str) -> str:
    """``<base>/portal?case=<number>``, the number percent-encoded so that a phone's SMS app and a QR reader take
    the whole address as one link (a raw 执 or （ ends it on many phones)."""
    return f"{public_base_url.rstrip('/')}{PORTAL_PATH}?case={quote(case_number, safe='')}"
