"""Public lists (seed 002 第一条): which node puts a respondent on which list, and what the public may see."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, TypeGuard, get_args

from pydantic import AwareDatetime, BaseModel

from domain.clock import start_of_day
from domain.masking import mask_address, mask_id_number

# Activity names: what the workflow refers to, without importing activity code into the sandbox.

PublicList = Literal[
    "unfinished-cases",
    "dishonest",
    "exit-restrictions",
    "consumption-restrictions",
    "bidding-restrictions",
]
PUBLIC_LISTS: tuple[PublicList, ...] = get_args(PublicList)
UNFINISHED_CASES: PublicList = "unfinished-cases"

LIST_TITLES: dict[PublicList, str] = {
    "unfinished-cases": "未结执行实施案件",
    "dishonest": "失信被执行人",
    "exit-restrictions": "限制出境被执行人",
    "consumption-restrictions": "限制高消费被执行人",
    "bidding-restrictions": "限制招标投标被执行人",
}

# The node that puts each respondent of the case on a list; measure_lifted with the same code takes them off.
LIST_OF_MEASURE: dict[str, PublicList] = {
    "dishonest_listing": "dishonest",
    "exit_restriction": "exit-restrictions",
    "consumption_restriction": "consumption-restrictions",
    "bidding_restriction": "bidding-restrictions",
}

EntryStatus = Literal["visible", "lifted", "masked"]


def is_public_list(name: str) -> TypeGuard[PublicList]:
    return name in PUBLIC_LISTS


def list_created_by(node_type: str) -> PublicList | None:
    """The list a node puts the case's respondents on, or None (seed 002 第一条)."""
    return LIST_OF_MEASURE.get(node_type)


def list_lifted_by(node_type: str, fields: dict[str, str]) -> PublicList | None:
    """The list a measure_lifted node takes the case's respondents off, by its ``measure`` field."""
    if node_type != "measure_lifted":
        return None
    return LIST_OF_MEASURE.get(fields.get("measure", ""))


def touches_public_lists(node_type: str, fields: dict[str, str]) -> bool:
    """Whether a node puts the respondents on a public list or takes them off one."""
    return list_created_by(node_type) is not None or list_lifted_by(node_type, fields) is not None


def filing_since(filed_on: date) -> datetime:
    """An unfinished case is listed from the start of its filing day in Beijing."""
    return start_of_day(filed_on)


class PublicIdentity(BaseModel):
    """What a list keeps of a respondent: the name in full, the ID number and address masked, nothing else."""

    name: str
    id_number_masked: str | None
    address_masked: str | None


def public_identity(*, name: str, id_number: str | None, address: str | None) -> PublicIdentity:
    """A respondent as the public may see them (seed 002 第一条: 身份证号、家庭住址 partly hidden)."""
    id_masked = mask_id_number(id_number) if id_number and id_number.strip() else None
    address_masked = mask_address(address) if address else None
    return PublicIdentity(name=name.strip(), id_number_masked=id_masked, address_masked=address_masked or None)


class PublicListNodeInput(BaseModel):
    """Apply a recorded node to the public lists: a listing measure adds, measure_lifted lifts."""

    case_id: str
    node_id: str


class PublicListChange(BaseModel):
    """The lists this node (or the filing) has entries on, and the lists it lifted; the same on every retry."""

    created: list[PublicList]
    lifted: list[PublicList]


class MaskInput(BaseModel):
    """Mask a case's visible entries: all lists at closure (mask-5wd), or e.g. ["dishonest"] (delist-3wd)."""

    case_id: str
    lists: list[PublicList] | None = None
    reason: str


class MaskResult(BaseModel):
    """How many of the case's entries in the lists asked for are masked, and when the publisher confirmed."""

    masked: int
    confirmed_at: AwareDatetime


class PublicEntry(BaseModel):
    """One entry as a publisher receives it: only what the public list shows."""

    case_id: str
    list: PublicList
    party_id: int
    case_number: str
    court: str
    name: str
    id_number_masked: str | None
    address_masked: str | None
    since: AwareDatetime
    status: EntryStatus
