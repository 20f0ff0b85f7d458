"""Who may do what: roles of DOMAIN.md, and courts as a tree (a court sees its cases, an upper court its subtree)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db import queries
from db.models import Case, Staff
from domain.errors import Forbidden, NotFound

ROLE_NAMES = {
    "registrar": "立案人员",
    "handler": "承办法官",
    "clerk": "书记员",
    "bureau_chief": "执行局长",
    "vice_president": "分管副院长",
    "president": "院长",
    "discipline": "纪检组长",
    "supervisor": "审判管理",
    "admin": "信息技术管理员",
}


def require_role(staff: Staff, *roles: str) -> None:
    if staff.role not in roles:
        allowed = "、".join(ROLE_NAMES[r] for r in roles)
        raise Forbidden(f"仅{allowed}可以执行此操作 (role {staff.role} not allowed)", kind="RoleNotAllowed")


def sees_court(staff: Staff, court_path: str) -> bool:
    return court_path.startswith(staff.court.path)


async def visible_case(session: AsyncSession, staff: Staff, case_id: str, *, people: bool = True) -> Case:
    """The case if this staff member's court is the case's court or above it; 404 otherwise (``people``: see
    queries.case_by_id)."""
    case = await queries.case_by_id(session, case_id=case_id, people=people)
    if case is None or not sees_court(staff, case.court.path):
        raise NotFound("案件不存在或不在本院管辖范围内 (case not found)", kind="CaseNotFound")
    return case


def require_on_case(staff: Staff, case: Case) -> None:
    """Only the case's handler (承办人) or clerk (书记员) records its nodes."""
    if staff.id not in (case.handler_id, case.clerk_id):
        raise Forbidden("只有本案承办人或书记员可以录入节点 (not on this case)", kind="NotOnCase")


# Who keeps a case's parties — registers and dismisses agents, corrects phones, names and addresses (DOMAIN.md →
# roles: the registrar enters parties and phone numbers; the handler and clerk work the case): the registrars of the
# case's court, and the case's own handler or clerk.
PARTY_KEEPERS_OF_COURT = ("registrar",)
PARTY_KEEPERS_ON_CASE = ("handler", "clerk")


def keeps_parties(staff: Staff, case: Case) -> bool:
    if staff.role in PARTY_KEEPERS_OF_COURT:
        return staff.court_code == case.court_code
    return staff.role in PARTY_KEEPERS_ON_CASE and staff.id in (case.handler_id, case.clerk_id)


def require_party_keeper(staff: Staff, case: Case) -> None:
    """Only the registrars of the case's court and the case's handler or clerk change its parties."""
    if not keeps_parties(staff, case):
        raise Forbidden(
            "只有本院立案人员或本案承办人、书记员可以变更当事人信息 (not a keeper of this case's parties)",
            kind="NotPartyKeeper",
        )
