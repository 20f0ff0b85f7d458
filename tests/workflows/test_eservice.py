"""E-service on the time-skipping server (seed 001 第十一条): a document served electronically and not downloaded
within 3 days of the reminder reaches the clerk, who serves it by post and records it with a ``service`` node naming
the document, which meets that document's clock; a document downloaded in time reaches no one."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from temporalio.testing import WorkflowEnvironment

from api import documents
from api.portal_auth import PortalUser
from api.recording import record_node
from api.schemas import NodeIn
from core.files import FileStore, FolderBackend
from db import queries
from db.models import Case, Party, Staff
from domain.calendar import Calendar
from domain.clock import BEIJING, end_of_day
from domain.periods import compute_period
from tests.api.helpers import eventually
from tests.workflows.conftest import World, WorldFactory
from tests.workflows.test_case import handle_case
from tests.workflows.test_obligations import obligations, rungs, sleep_until

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CALENDAR = Calendar()


async def _served_case(world: World, filed: datetime) -> str:
    """A case with a clerk, whose applicant consented to e-service."""
    case_id = handle_case(await world.file(filed.astimezone(BEIJING).date()))
    async with world.sessions.begin() as s:
        clerk = await s.scalar(select(Staff).where(Staff.username == "clerk"))
        assert clerk is not None
        await s.execute(update(Case).where(Case.id == case_id).values(clerk_id=clerk.id))
        await s.execute(update(Party).where(Party.case_id == case_id).values(eservice_consent=True))
    return case_id


async def _staff(world: World, username: str) -> Staff:
    async with world.sessions() as s:
        staff = await s.scalar(select(Staff).where(Staff.username == username))
    assert staff is not None
    return staff


async def _attach(world: World, files: FileStore, case_id: str, data: bytes, title: str) -> str:
    """The handler attaches a document through the API's own service (the row and its SMS, then the update)."""
    async with world.sessions() as s:
        document, created = await documents.attach(
            s,
            world.client,
            world.settings,
            files,
            staff=await _staff(world, "handler"),
            case_id=case_id,
            title=title,
            data=data,
            filename=f"{title}.pdf",
        )
    assert created and document.eservice
    return document.id


def _due(moment: datetime) -> datetime:
    """3 days after the day of the reminder, to 24:00 Beijing time (a last day on a rest day moves on)."""
    return end_of_day(compute_period(CALENDAR, moment.astimezone(BEIJING).date(), 3, "days").last_day)


async def test_a_document_not_downloaded_in_three_days_reaches_the_clerk_whose_service_node_meets_it(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    files = FileStore(FolderBackend(tempfile.mkdtemp(prefix="yg-files-")), max_bytes=1024 * 1024)
    now = await time_env.get_current_time()
    case_id = await _served_case(world, now)
    notice = await _attach(world, files, case_id, PDF + b"% notice\n", "执行通知书")
    order = await _attach(world, files, case_id, PDF + b"% order\n", "报告财产令")
    ob_id, other_id = f"eservice-3d:{notice}", f"eservice-3d:{order}"
    rows = await eventually(lambda: obligations(world, case_id), lambda o: ob_id in o and other_id in o)
    assert rows[ob_id].due_at == _due(now) and rows[ob_id].status == "open"
    reminders = [m for m in await world.sms(case_id) if m.reason == f"eservice:{notice}"]
    assert len(reminders) == 1 and "《执行通知书》已向您电子送达" in reminders[0].body

    await sleep_until(time_env, _due(now) + timedelta(hours=2))
    fired = await eventually(lambda: rungs(world, case_id, ob_id), lambda r: ("escalate", "president") in r)
    # The clerk, not the handler, is reminded when it opens and before the day; then the leaders above.
    assert fired[:2] == [("remind_open", "clerk"), ("remind_due", "clerk")]
    assert ("escalate", "discipline") in fired
    clerk = await _staff(world, "clerk")
    to_clerk = [m.body for m in await world.sms(case_id, to=f"staff:{clerk.id}")]
    # Its SMS name the duty: when each opened, and (both documents in one message) the day before they ran out;
    # the leaders hear of the overdue ones.
    assert [("已开始计算" in b, "即将到期" in b) for b in to_clerk if "电子送达文书签收" in b] == [
        (True, False),
        (True, False),
        (False, True),
    ]

    # The clerk serves the order by post and records it: that document's clock is met, late; the notice's, due
    # as early, runs on (a service node meets only the document it names).
    body = NodeIn.model_validate(
        {
            "type": "service",
            "occurred_at": datetime.now(UTC),
            "summary": "《报告财产令》已通过邮寄送达",
            "method": "邮寄",
            "document_id": order,
        }
    )
    async with world.sessions() as s:
        _, created = await record_node(
            s, world.client, staff=clerk, case_id=case_id, body=body, idempotency_key="service-order"
        )
    assert created
    met = await eventually(lambda: obligations(world, case_id), lambda o: o[other_id].status == "met")
    assert met[other_id].late is True and met[ob_id].status == "open"


async def test_a_document_downloaded_in_time_reaches_no_one(
    time_env: WorkflowEnvironment, make_world: WorldFactory
) -> None:
    world = await make_world(time_env.client)
    files = FileStore(FolderBackend(tempfile.mkdtemp(prefix="yg-files-")), max_bytes=1024 * 1024)
    now = await time_env.get_current_time()
    case_id = await _served_case(world, now)
    doc_id = await _attach(world, files, case_id, PDF, "执行通知书")
    ob_id = f"eservice-3d:{doc_id}"
    await eventually(lambda: obligations(world, case_id), lambda o: ob_id in o)

    await time_env.sleep(timedelta(hours=1))  # before the day its reminder warns of (remind_at: 0:00 two days on)
    async with world.sessions() as s:
        case = await queries.case_by_id(s, case_id=case_id)
        assert case is not None
        applicant = await s.scalar(select(Party).where(Party.case_id == case_id, Party.role == "applicant"))
        assert applicant is not None
        _, data = await documents.download(s, world.client, files, me=PortalUser(applicant, case), document_id=doc_id)
    assert data == PDF
    met = await eventually(lambda: obligations(world, case_id), lambda o: o[ob_id].status == "met")
    assert met[ob_id].late is False
    await sleep_until(time_env, _due(now) + timedelta(days=2))
    assert await rungs(world, case_id, ob_id) == [("remind_open", "clerk")]  # told once when it opened, no more
