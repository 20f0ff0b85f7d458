"""Guessing is bounded (issue 9 items 3, 4): the party login's lockout holds under concurrent guesses, staff logins
answer unknown and known usernames alike and are throttled per username and per client address, and logout ends
the token."""

from __future__ import annotations

import asyncio

from api import portal_auth
from tests.api.conftest import Api
from tests.api.test_portal import file_case


async def test_forty_concurrent_wrong_query_codes_are_judged_at_most_five_times_then_the_right_one_is_refused(
    api: Api,
) -> None:
    """The probe saw 40 concurrent wrong codes judged 19 times, and a right code accepted after 23 wrong ones: the
    attempts are counted, committed, before any code is checked."""
    case = await file_case(api)
    wrong = [case.login(query_code=f"WRONG{n:03d}") for n in range(40)]
    answers = await asyncio.gather(*(api.http.post("/api/portal/token", json=w) for w in wrong))

    judged = [r for r in answers if r.status_code == 401]
    assert len(judged) <= portal_auth.MAX_FAILURES, [r.status_code for r in answers]
    assert {r.status_code for r in answers} <= {401, 429}, [r.text for r in answers if r.status_code not in (401, 429)]
    assert all(r.json()["error"] == "TooManyAttempts" for r in answers if r.status_code == 429)

    right = await api.http.post("/api/portal/token", json=case.login())
    assert right.status_code == 429, right.text
    assert right.json()["error"] == "TooManyAttempts" and "分钟后再试" in right.json()["detail"]
    assert 0 < int(right.headers["Retry-After"]) <= int(portal_auth.FAILURE_WINDOW.total_seconds())
