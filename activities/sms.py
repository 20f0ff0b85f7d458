"""The notifier: an outbox row per (case, reason, recipient), then the provider (decision 8, seed 001 第八条)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.sms_providers import SmsProvider
from db.models import Case, Feedback, Node, Party, SmsMessage
from domain.clock import format_day
from domain.models import NotifyInput
from domain.nodes import node_type
from domain.portal import portal_link
from domain.secrets import hashed_in_background, new_query_code
from domain.sms import Signature, feedback_message, filing_message, node_message

RECIPIENT_ROLES = ("applicant", "agent")
QueryCodes = dict[int, tuple[str, str]]  # party id → (query code, its hash)
FEEDBACK_REASON = "feedback:"  # "feedback:<feedback_id>": the n-th progress feedback (seed 002 第五条)


class SmsActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], provider: SmsProvider, *, public_base_url: str = ""
    ) -> None:
        self._sessions = sessions
        self._provider = provider
        self._public_base_url = public_base_url  # the filing SMS links to the portal there (empty: no link)

    async def queue(self, s: AsyncSession, inp: NotifyInput, codes: QueryCodes) -> None:
        """Create the outbox rows that do not exist yet, in the caller's transaction; the unique key makes a retry a
        no-op. ``codes``: from ``new_query_codes``, before the transaction (a filing's hash is slow)."""
        case = await s.get(Case, inp.case_id)
        if case is None:
            raise LookupError(f"case {inp.case_id} not in the read model")
        existing = set(
            (
                await s.scalars(
                    select(SmsMessage.recipient).where(SmsMessage.case_id == case.id, SmsMessage.reason == inp.reason)
                )
            ).all()
        )
        sig = Signature(
            court_name=case.court.name,
            handler_name=case.handler.name if case.handler else None,
            handler_phone=case.handler.office_phone if case.handler else None,
        )
        node = await s.get(Node, inp.node_id) if inp.node_id else None
        if inp.node_id and node is None:
            raise LookupError(f"node {inp.node_id} not in the read model")  # never fall back to a filing SMS
        feedback = None
        if inp.reason.startswith(FEEDBACK_REASON):
            feedback_id = inp.reason.removeprefix(FEEDBACK_REASON)
            feedback = await s.get(Feedback, feedback_id)
            if feedback is None or feedback.case_id != case.id:
                raise LookupError(f"feedback {feedback_id} not in the read model")  # nor here
        for party in case.parties:
            recipient = f"party:{party.id}"
            if party.role not in RECIPIENT_ROLES or not party.phone or recipient in existing:
                continue
            if party.dismissed_at is not None:
                continue  # an agent no longer (解除委托): it hears nothing more of the case
            if node is None and feedback is None and party.query_code_hash:
                continue  # given its code since (an agent added, a phone corrected: api/parties.py) — keep it
            if feedback is not None:
                body = feedback_message(sig, case_number=case.case_number, n=feedback.n)
            elif node is None:
                code, party.query_code_hash = codes.get(party.id) or await _new_query_code()
                body = filing_message(
                    sig,
                    case_number=case.case_number,
                    filed_on=format_day(case.filed_on),
                    query_code=code,
                    portal_url=portal_link(self._public_base_url, case.case_number) if self._public_base_url else None,
                )
            else:
                nt = node_type(node.type)
                assert nt is not None
                body = node_message(
                    sig,
                    case_number=case.case_number,
                    node=nt,
                    occurred_at=node.occurred_at,
                    fields=node.fields,
                    summary=node.summary,
                )
            s.add(
                SmsMessage(
                    case_id=case.id,
                    reason=inp.reason,
                    recipient=recipient,
                    to=party.phone,
                    body=body,
                    status="pending",
                    provider=self._provider.name,
                    created_at=datetime.now(UTC),
                )
            )

    async def new_query_codes(self, inp: NotifyInput) -> QueryCodes:
        """A query code and its hash for each applicant and agent a filing SMS will give one to (none for other
        SMS), hashed at a low priority: no one waits on a page for it."""
        if not _is_filing(inp):
            return {}
        async with self._sessions() as s:
            ids = (
                await s.scalars(
                    select(Party.id).where(
                        Party.case_id == inp.case_id,
                        Party.role.in_(RECIPIENT_ROLES),
                        Party.phone.is_not(None),
                        Party.dismissed_at.is_(None),
                        Party.query_code_hash.is_(None),
                    )
                )
            ).all()
        codes = await asyncio.gather(*(_new_query_code() for _ in ids))
        return dict(zip(ids, codes, strict=True))


def _is_filing(inp: NotifyInput) -> bool:
    return inp.node_id is None and not inp.reason.startswith(FEEDBACK_REASON)


async def _new_query_code() -> tuple[str, str]:
    code = new_query_code()
    return code, await hashed_in_background(code)
