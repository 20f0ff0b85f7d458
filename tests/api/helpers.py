"""Request bodies and waits shared by the API tests."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from domain.clock import BEIJING

T = TypeVar("T")
_numbers = itertools.count(100)


def case_body(**overrides: Any) -> dict[str, Any]:
    n = next(_numbers)
    filed_on = datetime.now(BEIJING).date() - timedelta(days=2)
    body: dict[str, Any] = {
        "case_number": f"（{filed_on.year}）云0102执{n}号",
        "court_code": "YN0102",
        "cause": "民间借贷纠纷",
        "amount": "50000.00",
        "filed_on": filed_on.isoformat(),
        "has_property": True,
        "handler": "handler",
        "clerk": "clerk",
        "applicants": [
            {
                "name": "张三",
                "id_number": "530102199001011234",
                "phone": f"138{n:08d}",
                "eservice_consent": True,
            }
        ],
        "respondents": [{"name": "李四", "id_number": "530103198505051234", "address": "昆明市五华区某路1号"}],
    }
    body.update(overrides)
    return body


def now_iso(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).astimezone(BEIJING).isoformat()


async def eventually(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], *, seconds: float = 10) -> T:
    """Poll until ``ok`` holds (the read model is written by activities, a moment after the update)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await probe()
        if ok(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)
