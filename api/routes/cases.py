"""Cases, nodes and history (API.md → Cases, Nodes, Workflow history)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from api import history as history_view
from api import messages
from api.access import require_role, visible_case
from api.assignment import assign_case
from api.deps import CurrentStaff, SessionDep, SettingsDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.filing import file_case
from api.recording import record_node
from api.schemas import (
    AssignmentIn,
    AssignmentOut,
    CaseFiled,
    CaseIn,
    CaseOut,
    HistoryOut,
    NodeCreated,
    NodeIn,
    NodeOut,
    ObligationOut,
    PartyOut,
)
from db import queries
from domain.nodes import node_type
from domain.phones import mask_phone

router = APIRouter(prefix="/api/cases", tags=["cases"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED)
async def post_case(
    body: CaseIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> CaseFiled:
    """File a case (registrar of the court); the same case number again returns 200 and the same case."""
    filed, created = await file_case(session, client, settings, staff=staff, body=body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return filed


@router.get("/{case_id}")
async def get_case(case_id: str, staff: CurrentStaff, session: SessionDep) -> CaseOut:
    case = await visible_case(session, staff, case_id)
    nodes = await queries.nodes_of_case(session, case_id=case.id)
    return CaseOut(
        case_id=case.id,
        case_number=case.case_number,
        court_code=case.court_code,
        court=case.court.name,
        cause=case.cause,
        amount=case.amount,
        filed_on=case.filed_on,
        status=case.status,
        handler=case.handler.username if case.handler else None,
        handler_name=case.handler.name if case.handler else None,
        clerk=case.clerk.username if case.clerk else None,
        workflow_id=case.workflow_id,
        rule_version=case.rule_version,
        parties=[
            PartyOut(
                role=p.role,
                name=p.name,
                id_type=p.id_type,
                phone_masked=mask_phone(p.phone) if p.phone else None,
                phone_flag=p.phone_flag,
            )
            for p in case.parties
        ],
        nodes=[
            NodeOut(
                node_id=n.id,
                seq=n.seq,
                type=n.type,
                name=nt.name if (nt := node_type(n.type)) else n.type,
                occurred_at=n.occurred_at,
                entered_at=n.entered_at,
                late=n.late,
                disclose=n.disclose,
                summary=n.summary,
                fields=n.fields,
                recorded_by=n.recorded_by,
            )
            for n in nodes
        ],
        obligations=[
            ObligationOut(
                obligation_id=o.obligation_id,
                rule=o.rule,
                subject=o.subject,
                opened_at=o.opened_at,
                remind_at=o.remind_at,
                warn_at=o.warn_at,
                due_at=o.due_at,
                confirmed=o.confirmed,
                status=o.status,
                paused=o.paused,
                late=o.late,
                met_at=o.met_at,
                rungs_fired=o.rungs_fired,
                level=o.level,
            )
            for o in await queries.obligations_of_case(session, case_id=case.id)
            if messages.shows_clock(staff, o.rule)
        ],
    )


@router.post("/{case_id}/nodes", status_code=status.HTTP_201_CREATED)
async def post_node(
    case_id: str,
    body: NodeIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> NodeCreated:
    """Record a node (the case's handler or clerk); the same Idempotency-Key again returns 200 and the same node."""
    node, created = await record_node(
        session, client, staff=staff, case_id=case_id, body=body, idempotency_key=idempotency_key
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return node


@router.post("/{case_id}/assignment")
async def post_assignment(
    case_id: str,
    body: AssignmentIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> AssignmentOut:
    """Assign or reassign the handler and clerk (bureau chief or vice president of the case's court, seed 004)."""
    out, _ = await assign_case(session, client, staff=staff, case_id=case_id, body=body, key=idempotency_key)
    return out


@router.get("/{case_id}/history")
async def get_history(
    case_id: str, staff: CurrentStaff, session: SessionDep, client: TemporalDep, include_tasks: bool = False
) -> HistoryOut:
    """Every run of the case's workflow, decrypted and named in domain terms (admins only)."""
    require_role(staff, "admin")
    case = await visible_case(session, staff, case_id)
    return await history_view.case_history(client, case.workflow_id, include_tasks=include_tasks)
