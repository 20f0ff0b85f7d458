"""The read model's writes, session first: the caller owns the transaction, so several can share one (decision 1).

Rows the workflow rewrites as a whole snapshot (obligations, extension requests) carry the workflow's version of
it and are written unless the stored one is newer: the retry of an older snapshot (a worker killed mid-activity,
its attempt retried after a later save landed) changes nothing, and the same version again is the write the
recorded workflow task made after a failed one (a local activity runs again). Nodes and feedback are written by
ids the workflow derives from the request. The case's status only moves forward (filing → open → closed). None
commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, and_, case, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Base, Case, ExtensionRequest, Feedback, Node, ObligationRow, SupervisionRecord
from domain.feedback import SaveFeedbackInput
from domain.ladder import LEVELS
from domain.models import Extension, Obligation, RecordedNode


async def save_obligations(s: AsyncSession, *, case_id: str, obligations: Sequence[Obligation]) -> list[str]:
    """The obligations as the workflow reported them, each at its ``version``, unless a row holds a newer one; the ids
    of those written. Two statements whatever their number.

    When written, a met or ended obligation closes its open supervision records (they leave the inboxes, seed 004),
    and an open one closes those of the rungs it re-armed (a moved deadline); an overtaken snapshot touches neither.
    """
    newest = {ob.id: ob for ob in sorted(obligations, key=lambda ob: ob.version)}  # one row per id in a statement
    if not newest:
        return []
    now = datetime.now(UTC)
    rows = [
        {
            "case_id": case_id,
            "obligation_id": ob.id,
            "rule": ob.rule,
            "subject": ob.subject,
            "opened_at": ob.opened_at,
            "due_at": ob.due_at,
            "remind_at": ob.remind_at,
            "warn_at": ob.warn_at,
            "confirmed": ob.confirmed,
            "status": ob.status,
            "paused": ob.paused_at is not None,
            "late": ob.late,
            "met_at": ob.met_at,
            "rungs_fired": list(ob.rungs_fired),
            "level": max((LEVELS[r] for r in ob.rungs_fired), default=0),
            "updated_at": now,
            "version": ob.version,
        }
        for ob in newest.values()
    ]
    keys = await _write_newer(s, ObligationRow, key=["case_id", "obligation_id"], rows=rows)
    written = [ob_id for (_, ob_id) in keys]
    if not written:
        return []
    closing = []
    for ob in (newest[ob_id] for ob_id in written):
        mine = SupervisionRecord.obligation_id == ob.id
        closing.append(and_(mine, SupervisionRecord.rung.not_in(ob.rungs_fired)) if ob.status == "open" else mine)
    met_at = case(*((SupervisionRecord.obligation_id == ob_id, newest[ob_id].met_at or now) for ob_id in written))
    await s.execute(
        update(SupervisionRecord)
        .where(SupervisionRecord.case_id == case_id, SupervisionRecord.met_at.is_(None), or_(*closing))
        .values(met_at=met_at)
    )
    return written


async def save_extension(s: AsyncSession, *, case_id: str, extension: Extension, version: int) -> bool:
    """A term-extension (or 终本 exception) request and its decision at ``version``, unless a newer one is stored.

    The conditions a 终本 exception waives are fixed when it is asked and kept apart from the decider's note; a
    snapshot without them (a request asked before they were kept apart, migration 0009) keeps the stored ones."""
    e = extension
    values: dict[str, Any] = {
        "kind": e.kind,
        "months": e.months,
        "reason": e.reason,
        "requested_by": e.requested_by,
        "requested_at": e.requested_at,
        "status": e.status,
        "decided_by": e.decided_by,
        "decided_at": e.decided_at,
        "note": e.note,
    }
    if e.waived:
        values["waived"] = list(e.waived)
    row = {"id": e.id, **values, "version": version}
    return bool(await _write_newer(s, ExtensionRequest, key=["id"], rows=[row], on_insert={"case_id": case_id}))


async def save_node(s: AsyncSession, *, case_id: str, node: RecordedNode) -> None:
    """The node as its transition last wrote it: its id derives from the request's key, so a retry, or the write of
    a workflow task that failed after it, is the same row written again."""
    n = node
    values = {
        "id": n.node_id,
        "case_id": case_id,
        "seq": n.seq,
        "type": n.type,
        "occurred_at": n.occurred_at,
        "entered_at": n.entered_at,
        "late": n.late,
        "disclose": n.disclose,
        "summary": n.summary,
        "fields": n.fields,
        "idempotency_key": n.idempotency_key,
        "recorded_by": n.recorded_by,
    }
    await _upsert(s, Node, values, key=["id"])


async def save_feedback(s: AsyncSession, *, feedback: SaveFeedbackInput) -> None:
    """The progress feedback (seed 002 第五条) as its transition last wrote it; its id derives from the request, as a
    node's does (the applicant's reply is not among these columns and stays)."""
    f = feedback
    values = {
        "id": f.feedback_id,
        "case_id": f.case_id,
        "n": f.n,
        "obligation_id": f.obligation_id,
        "request_id": f.request_id,
        "measures": f.measures,
        "next_steps": f.next_steps,
        "applicant_tasks": f.applicant_tasks,
        "submitted_by": f.submitted_by,
        "submitted_at": f.submitted_at,
        "late": f.late,
    }
    await _upsert(s, Feedback, values, key=["id"])


async def mark_case_open(s: AsyncSession, *, case_id: str) -> bool:
    """The workflow has the case: filing → open (never reopens a closed case)."""
    stmt = update(Case).where(Case.id == case_id, Case.status == "filing").values(status="open")
    return await _rowcount(s, stmt) > 0


async def mark_case_closed(
    s: AsyncSession, *, case_id: str, closed_at: datetime, query_ends_at: datetime | None
) -> bool:
    """Closed once: a retry of the closure, or a second one, keeps the first closure's instants."""
    stmt = (
        update(Case)
        .where(Case.id == case_id, Case.status != "closed")
        .values(status="closed", closed_at=closed_at, query_ends_at=query_ends_at)
    )
    return await _rowcount(s, stmt) > 0


async def _write_newer(
    s: AsyncSession,
    model: type[ObligationRow] | type[ExtensionRequest],
    *,
    key: list[str],
    rows: list[dict[str, Any]],
    on_insert: dict[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """INSERT … ON CONFLICT (key) DO UPDATE … WHERE stored version <= the row's, one statement for all the rows, on
    SQLite and PostgreSQL (a competing first insert is waited for, then compared); the keys written, from RETURNING.
    ``on_insert``: columns a new row gets and an existing one keeps."""
    if any(row["version"] < 0 for row in rows):
        raise ValueError("read-model version < 0")
    stmt = _dialect_insert(s, model).values([{**row, **(on_insert or {})} for row in rows])
    stmt = stmt.on_conflict_do_update(
        index_elements=key,
        set_={column: stmt.excluded[column] for column in rows[0] if column not in key},
        where=model.version <= stmt.excluded.version,
    )
    return [tuple(r) for r in await s.execute(stmt.returning(*(getattr(model, k) for k in key)))]


def _dialect_insert(s: AsyncSession, model: type[Base]) -> Any:
    """INSERT with ON CONFLICT, on SQLite (3.35+) and PostgreSQL alike."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"read-model writes on {dialect}")


async def _upsert(s: AsyncSession, model: type[Base], values: dict[str, Any], *, key: list[str]) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE with every other column given."""
    changed = {k: v for k, v in values.items() if k not in key}
    await s.execute(_dialect_insert(s, model).values(**values).on_conflict_do_update(index_elements=key, set_=changed))


async def _rowcount(s: AsyncSession, stmt: Executable) -> int:
    """Rows an UPDATE matched."""
    result = cast(CursorResult[Any], await s.execute(stmt))
    return int(result.rowcount)
