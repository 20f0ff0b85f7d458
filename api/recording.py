"""Recording a node through the case workflow's update (API.md → Nodes; decision 2)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api import idempotency
from api.access import require_on_case, visible_case
from api.schemas import NodeCreated, NodeIn
from api.updates import send_update
from contracts.case import RECORD_NODE
from db import queries
from db.models import Staff
from domain import guard
from domain.models import NodeResult, RecordNodeInput
from domain.rules import rule_set


async def record_node(
    session: AsyncSession,
    client: Client,
    *,
    staff: Staff,
    case_id: str,
    body: NodeIn,
    idempotency_key: str | None,
) -> tuple[NodeCreated, bool]:
    """Return the node and whether this request created it; the same key again returns the same node, with
    another body it is refused (api/idempotency.py)."""
    case = await visible_case(session, staff, case_id, people=False)  # a node needs the case's own columns
    require_on_case(staff, case)
    claimed = None
    if idempotency_key is None:
        key = str(uuid.uuid4())
    else:
        key = idempotency_key
        claimed = await idempotency.claim(session, scope="node", case_id=case.id, key=key, body=body)
    first = claimed is None or claimed.first
    # A key this request claimed (or made up) has no node yet; a repeat's node may be written already.
    done = None if first else await queries.node_by_key(session, case_id=case.id, idempotency_key=key)
    if done is not None:
        return NodeCreated(node_id=done.id, late=done.late), False
    fields = body.type_fields()
    async with idempotency.freed_if_refused(session, claimed):
        if first:  # a repeat waits for the first's result (the same update), whatever the case is by now
            rules = rule_set(case.rule_version)
            guard.check_node(
                rules,
                await queries.case_view(session, case=case, rules=rules),
                type_code=body.type,
                occurred_at=body.occurred_at,
                fields=fields,
                now=datetime.now(UTC),
            )
        result = await send_update(
            session,
            client,
            case.workflow_id,
            RECORD_NODE,
            RecordNodeInput(
                idempotency_key=key,
                type=body.type,
                occurred_at=body.occurred_at,
                summary=body.summary,
                disclose=body.disclose,
                fields=fields,
                recorded_by=staff.username,
            ),
            update_id="node-" + hashlib.sha256(key.encode()).hexdigest()[:40],
            result_type=NodeResult,
            failed="节点未能记录",
            ended="案件流程已结束，不能再录入节点",
        )
    return NodeCreated(node_id=result.node_id, late=result.late), result.created and first
