"""Notices go out beside the clocks (decision 8), and a case filed with a past date sends each person one summary."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from tests.api.helpers import eventually
from tests.workflows.conftest import World, WorldFactory
from tests.workflows.test_case import handle_case
from tests.workflows.test_obligations import obligations, rungs, today


class FlakyProvider:
    """An SMS provider that refuses everything while ``down``, and counts what it accepted."""

    name = "outbox"

    def __init__(self) -> None:
        self.down = True
        self.accepted: Counter[tuple[str, str]] = Counter()

    async def send(self, to: str, body: str) -> str:
        if self.down:
            raise ConnectionError("provider unreachable")
        self.accepted[(to, body)] += 1
        return f"sm-{len(self.accepted)}"

    async def find(self, to: str, body: str, since: datetime) -> str | None:
        return None


async def _sent(world: World, case_id: str) -> list[str]:
    return [m.status for m in await world.sms(case_id) + await world.sms(case_id, to="staff:")]


async def test_a_failing_provider_delays_messages_but_not_the_clocks(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    provider = FlakyProvider()
    world = await make_world(time_env.client, sms=provider)
    filed = await today(time_env) - timedelta(days=40)  # investigate-1m is overdue at filing
    case_id = handle_case(await world.file(filed))
    # the ladder climbs although not one SMS could go out
    fired = await eventually(lambda: rungs(world, case_id, "investigate-1m"), lambda r: len(r) == 5)
    assert ("escalate", "president") in fired
    obs = await obligations(world, case_id)
    assert obs["investigate-1m"].level == 3
    assert "sent" not in await _sent(world, case_id)

    provider.down = False
    await time_env.sleep(timedelta(hours=1))  # past the SMS retry back-off
    await eventually(lambda: _sent(world, case_id), lambda s: bool(s) and all(x == "sent" for x in s), seconds=30)
    assert all(n == 1 for n in provider.accepted.values())  # every SMS once


async def test_a_past_filing_date_sends_each_staff_member_one_summary(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    filed = await today(time_env) - timedelta(days=45)
    case_id = handle_case(await world.file(filed))
    await eventually(lambda: rungs(world, case_id, "investigate-1m"), lambda r: len(r) == 5)
    staff_sms = await eventually(lambda: world.sms(case_id, to="staff:"), lambda s: len(s) >= 4)
    per_person = Counter(m.recipient for m in staff_sms)
    assert all(n == 1 for n in per_person.values()), per_person  # one message each, not one per rung
    handler = [m.body for m in staff_sms if "财产调查" in m.body and "已超期" in m.body]
    assert handler, [m.body for m in staff_sms]
    # a deadline already past is never announced as "has started"
    assert not any(re.search("财产调查（网络查控）”期限至[^，]*，已开始计算", m.body) for m in staff_sms)
