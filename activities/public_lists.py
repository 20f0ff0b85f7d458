"""Public lists (seed 002 第一条): entries written from the filing and from nodes, masked after closure (第十二条)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.activities import APPLY_NODE_TO_PUBLIC_LISTS, MASK_CASE_ENTRIES
from db import queries
from db.models import Case, Node, Party, PublicListEntry
from domain.nodes import node_type
from domain.public_lists import (
    UNFINISHED_CASES,
    MaskInput,
    MaskResult,
    PublicEntry,
    PublicList,
    PublicListChange,
    PublicListNodeInput,
    filing_since,
    list_created_by,
    list_lifted_by,
    public_identity,
)

__all__ = [
    "APPLY_NODE_TO_PUBLIC_LISTS",
    "MASK_CASE_ENTRIES",
    "LocalPublisher",
    "PublicListActivities",
    "PublicListPublisher",
]


@dataclass(frozen=True)
class Listing:
    """A case's listing among the unfinished cases as written: whether it has entries, and those to show."""

    created: bool
    entries: list[PublicEntry]


class PublicListPublisher(Protocol):
    """Where the lists are shown. Every call may come again on a retry, so each must be idempotent."""

    async def publish(self, entry: PublicEntry) -> None: ...

    async def lift(self, entry: PublicEntry) -> None: ...

    async def mask(self, entry: PublicEntry) -> None: ...

    async def confirm(self, case_id: str) -> list[str]:
        """The lists that still show the case to the public."""
        ...


class LocalPublisher:
    """Our own lists: GET /api/public/{list} serves the committed rows, so the row is the publication."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def publish(self, entry: PublicEntry) -> None:
        return None

    async def lift(self, entry: PublicEntry) -> None:
        return None

    async def mask(self, entry: PublicEntry) -> None:
        return None

    async def confirm(self, case_id: str) -> list[str]:
        """Read back what the public endpoint would serve for the case."""
        async with self._sessions() as s:
            return await queries.lists_showing_case(s, case_id=case_id)


class PublicListActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], publisher: PublicListPublisher | None = None
    ) -> None:
        self._sessions = sessions
        self._publisher: PublicListPublisher = publisher or LocalPublisher(sessions)

    async def list_case(self, s: AsyncSession, case_id: str) -> Listing:
        """Each respondent of a filed case goes on the unfinished-cases list (未结执行实施案件, seed 002 第一条): the
        entries are written in the caller's transaction, and ``publish`` shows them once it has committed."""
        case = await _case(s, case_id)
        since = filing_since(case.filed_on)
        stored = {
            e.party_id: e for e in await queries.public_entries_of_case(s, case_id=case.id, lists=[UNFINISHED_CASES])
        }
        for party in await queries.respondents_of_case(s, case_id=case.id):
            stored[party.id] = _put(
                s, stored.get(party.id), case_id=case.id, list_name=UNFINISHED_CASES, party=party, node_id=None,
                since=since,
            )  # fmt: skip
        entries = [e for e in stored.values() if e.node_id is None]
        return Listing(created=bool(entries), entries=[_public(e, case) for e in entries if e.status == "visible"])

    async def publish(self, listing: Listing) -> None:
        for entry in listing.entries:
            await self._publisher.publish(entry)

    @activity.defn(name=APPLY_NODE_TO_PUBLIC_LISTS)
    async def apply_node_to_public_lists(self, inp: PublicListNodeInput) -> PublicListChange:
        """A listing measure puts the respondents on its list; measure_lifted takes them off (seed 002 第一条)."""
        async with self._sessions.begin() as s:
            case = await _case(s, inp.case_id)
            node = await s.get(Node, inp.node_id)
            if node is None:
                raise LookupError(f"node {inp.node_id} not in the read model")  # save_node runs first; retried
            if node.case_id != case.id:
                raise ApplicationError(
                    f"node {node.id} belongs to another case", type="NodeNotInCase", non_retryable=True
                )
            target = list_created_by(node.type)
            # A node the judge was allowed not to disclose (seed 002 第十三条) is not published either.
            if target is not None and node.disclose:
                for party in await queries.respondents_of_case(s, case_id=case.id):
                    stored = await _stored(s, case_id=case.id, list_name=target, party_id=party.id)
                    _put(
                        s,
                        stored,
                        case_id=case.id,
                        list_name=target,
                        party=party,
                        node_id=node.id,
                        since=node.occurred_at,
                    )
            lifting = list_lifted_by(node.type, node.fields)
            if lifting is not None:
                _lift(
                    await queries.public_entries_of_case(s, case_id=case.id, lists=[lifting]),
                    node=node,
                    reason=_lift_reason(node),
                )
            await s.flush()
            entries = await queries.public_entries_of_case(s, case_id=case.id)
            created = [e for e in entries if e.node_id == node.id]
            lifted = [e for e in entries if e.lifted_node_id == node.id]
            to_publish = [_public(e, case) for e in created if e.status == "visible"]
            to_lift = [_public(e, case) for e in lifted if e.status == "lifted"]
        for entry in to_publish:
            await self._publisher.publish(entry)
        for entry in to_lift:
            await self._publisher.lift(entry)
        change = PublicListChange(created=_lists(created), lifted=_lists(lifted))
        if change.created or change.lifted:
            activity.logger.info(
                "public lists changed",
                # "created" is a LogRecord attribute: as an extra key it makes logging raise (and the activity retry)
                extra={
                    "case_id": case.id,
                    "node_type": node.type,
                    "lists_created": change.created,
                    "lists_lifted": change.lifted,
                },
            )
        return change

    @activity.defn(name=MASK_CASE_ENTRIES)
    async def mask_case_entries(self, inp: MaskInput) -> MaskResult:
        """Mask the case's visible entries, then have the publisher confirm (seed 002 第十二条; delist-3wd).

        Until the publisher confirms that nothing is shown any more this raises a retryable MaskNotConfirmed:
        the workflow keeps retrying while the deadline ladder escalates.
        """
        now = datetime.now(UTC)
        async with self._sessions.begin() as s:
            entries = await queries.public_entries_of_case(s, case_id=inp.case_id, lists=inp.lists)
            for e in entries:
                if e.status == "visible":
                    e.status, e.masked_at, e.reason = "masked", now, inp.reason
            masked = [e for e in entries if e.status == "masked"]
            case = await s.get(Case, inp.case_id) if masked else None
            to_mask = [_public(e, case) for e in masked] if case is not None else []
        for entry in to_mask:
            await self._publisher.mask(entry)
        showing = await self._publisher.confirm(inp.case_id)
        still = sorted(name for name in showing if inp.lists is None or name in inp.lists)
        if still:
            activity.logger.warning("public list masking not confirmed", extra={"case_id": inp.case_id, "lists": still})
            raise ApplicationError(
                f"公开名单仍显示本案：{'、'.join(still)} (masking not confirmed)",
                still,
                type="MaskNotConfirmed",
                non_retryable=False,
            )
        activity.logger.info("public list entries masked", extra={"case_id": inp.case_id, "masked": len(masked)})
        return MaskResult(masked=len(masked), confirmed_at=datetime.now(UTC))


async def _case(s: AsyncSession, case_id: str) -> Case:
    """The case's own columns and court (the respondents are read apart)."""
    case = await queries.case_by_id(s, case_id=case_id, people=False)
    if case is None:
        raise LookupError(f"case {case_id} not in the read model")  # the API writes it before the workflow starts
    return case


def _put(
    s: AsyncSession,
    entry: PublicListEntry | None,
    *,
    case_id: str,
    list_name: PublicList,
    party: Party,
    node_id: str | None,
    since: datetime,
) -> PublicListEntry:
    """One entry per (case, list, respondent), ``entry`` being the one stored: a retry or a second listing changes
    nothing while it is shown. A new listing node after a lift (or after masking, once the case is open again) shows
    the entry again."""
    identity = public_identity(name=party.name, id_number=party.id_number, address=party.address)
    if entry is None:
        entry = PublicListEntry(
            case_id=case_id,
            list_name=list_name,
            party_id=party.id,
            node_id=node_id,
            since=since,
            status="visible",
            **identity.model_dump(),
        )
        s.add(entry)
        return entry
    if entry.status == "visible" or entry.node_id == node_id:
        return entry
    entry.node_id, entry.since, entry.status = node_id, since, "visible"
    entry.lifted_at = entry.lifted_node_id = entry.masked_at = entry.reason = None
    entry.name, entry.id_number_masked, entry.address_masked = (
        identity.name,
        identity.id_number_masked,
        identity.address_masked,
    )
    return entry


async def _stored(s: AsyncSession, *, case_id: str, list_name: PublicList, party_id: int) -> PublicListEntry | None:
    return await s.scalar(
        select(PublicListEntry).where(
            PublicListEntry.case_id == case_id,
            PublicListEntry.list_name == list_name,
            PublicListEntry.party_id == party_id,
        )
    )


def _lift(entries: Sequence[PublicListEntry], *, node: Node, reason: str) -> None:
    """Take visible entries listed before the lift off their list; a later listing stays."""
    for e in entries:
        if e.status == "visible" and e.since <= node.occurred_at:
            e.status, e.lifted_at, e.lifted_node_id, e.reason = "lifted", node.occurred_at, node.id, reason


def _lift_reason(node: Node) -> str:
    nt = node_type(node.type)
    measure = node_type(node.fields.get("measure", ""))
    what = f"{nt.name if nt else node.type}（{measure.name if measure else node.fields.get('measure')}）"
    return f"{what}：{node.summary}" if node.summary else what


def _public(e: PublicListEntry, case: Case) -> PublicEntry:
    return PublicEntry(
        case_id=e.case_id,
        list=e.list_name,
        party_id=e.party_id,
        case_number=case.case_number,
        court=case.court.name,
        name=e.name,
        id_number_masked=e.id_number_masked,
        address_masked=e.address_masked,
        since=e.since,
        status=e.status,
    )


def _lists(entries: Sequence[PublicListEntry]) -> list[PublicList]:
    return sorted({e.list_name for e in entries})  # type: ignore[misc]
