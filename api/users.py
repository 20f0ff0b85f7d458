"""Staff accounts kept by administrators (DOMAIN.md → roles: admin keeps users): an administrator lists, creates,
deactivates and reactivates the users of their court and of the courts below it, resets their passwords and changes
their roles. Each change is audited in ``staff_changes`` in the same transaction; a new or reset password is made
here, shown once to the administrator and stored only as its hash."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.access import ROLE_NAMES, require_role
from db.models import Court, Staff, StaffChange
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.phones import check_mobile
from domain.secrets import hashed

USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,31}$")
OFFICE_PHONE = re.compile(r"^[0-9+()\- ]{5,32}$")
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # no 0/O, 1/l/I to misread
PASSWORD_LENGTH = 12
CHANGE_NAMES = {
    "created": "新建账号",
    "role": "变更角色",
    "deactivated": "停用账号",
    "reactivated": "恢复启用",
    "password": "重置密码",
}


@dataclass(frozen=True)
class NewUser:
    username: str
    name: str
    role: str
    court_code: str
    office_phone: str | None = None
    mobile: str | None = None


def new_password() -> str:
    """A temporary password the administrator hands over; the user logs in with it."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def require_admin(staff: Staff) -> None:
    require_role(staff, "admin")


async def courts_kept(session: AsyncSession, admin: Staff) -> Sequence[Court]:
    """The administrator's court and the courts below it, in tree order."""
    rows = await session.scalars(select(Court).where(Court.path.startswith(admin.court.path)).order_by(Court.path))
    return rows.all()


async def users(session: AsyncSession, admin: Staff, *, court_code: str | None = None) -> Sequence[Staff]:
    """The users the administrator keeps, by court (tree order), active first, then by role and username."""
    require_admin(admin)
    query = select(Staff).join(Court, Staff.court_code == Court.code).where(Court.path.startswith(admin.court.path))
    if court_code:
        query = query.where(Staff.court_code == court_code)
    order = list(ROLE_NAMES)
    rows = (await session.scalars(query.order_by(Court.path, Staff.active.desc(), Staff.username))).unique().all()
    return sorted(rows, key=lambda s: (s.court.path, not s.active, order.index(s.role) if s.role in order else 99))


async def users_per_court(session: AsyncSession, admin: Staff) -> dict[str, tuple[int, int]]:
    """Per court of the subtree: (active users, all users)."""
    rows = await session.execute(
        select(Staff.court_code, Staff.active, func.count())
        .join(Court, Staff.court_code == Court.code)
        .where(Court.path.startswith(admin.court.path))
        .group_by(Staff.court_code, Staff.active)
    )
    out: dict[str, tuple[int, int]] = {}
    for code, active, n in rows:
        a, total = out.get(code, (0, 0))
        out[code] = (a + (n if active else 0), total + n)
    return out


async def kept_user(session: AsyncSession, admin: Staff, staff_id: int) -> Staff:
    """A user of the administrator's court or a court below it; 404 otherwise (another court's users are not seen)."""
    require_admin(admin)
    user = await session.get(Staff, staff_id)
    if user is None or not user.court.path.startswith(admin.court.path):
        raise NotFound("用户不存在或不在本院管理范围内 (user not found)", kind="UserNotFound")
    return user


def _audit(session: AsyncSession, admin: Staff, user: Staff, kind: str, old: str | None, new: str | None) -> None:
    session.add(
        StaffChange(staff_id=user.id, kind=kind, old_value=old, new_value=new, by=admin.username, at=datetime.now(UTC))
    )


async def create_user(session: AsyncSession, admin: Staff, data: NewUser) -> tuple[Staff, str]:
    """The new user and its temporary password; checked, created and audited in one transaction."""
    require_admin(admin)
    username, name = data.username.strip(), data.name.strip()
    if not USERNAME.match(username):
        raise InvalidInput(
            "用户名须以字母开头，由3至32位字母、数字、点、下划线或连字符组成 (invalid username)", kind="InvalidUsername"
        )
    if not name or len(name) > 64:
        raise InvalidInput("请填写姓名（不超过64字）", kind="MissingField")
    if data.role not in ROLE_NAMES:
        raise InvalidInput("请选择角色 (unknown role)", kind="UnknownRole")
    court = await session.get(Court, data.court_code)
    if court is None or not court.path.startswith(admin.court.path):
        raise InvalidInput("请选择本院或下级法院 (court outside your tree)", kind="CourtNotKept")
    office = (data.office_phone or "").strip() or None
    if office and not OFFICE_PHONE.match(office):
        raise InvalidInput("办公电话格式不正确 (invalid office phone)", kind="InvalidPhone")
    mobile = check_mobile(data.mobile) if data.mobile and data.mobile.strip() else None
    if await session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
        raise Conflict(f"用户名“{username}”已被使用，请换一个 (username taken)", kind="UsernameTaken")
    password = new_password()
    user = Staff(
        username=username,
        password_hash=await hashed(password),
        name=name,
        role=data.role,
        court_code=court.code,
        office_phone=office,
        mobile=mobile,
        active=True,
    )
    session.add(user)
    try:
        await session.flush()
        _audit(session, admin, user, "created", None, f"{data.role}@{court.code}")
        await session.commit()
    except IntegrityError:  # the same username created at the same moment
        await session.rollback()
        await session.refresh(admin)  # the rollback expired it; the page drawn next reads its court
        raise Conflict(f"用户名“{username}”已被使用，请换一个 (username taken)", kind="UsernameTaken") from None
    await session.refresh(user)
    return user, password


def _not_self(admin: Staff, user: Staff, what: str) -> None:
    if user.id == admin.id:
        raise Forbidden(f"不能{what}自己的账号，请由其他管理员操作 (not on your own account)", kind="OwnAccount")


async def set_active(session: AsyncSession, admin: Staff, staff_id: int, *, active: bool) -> bool:
    """Deactivate (the user can no longer log in, and tokens already issued stop working) or reactivate; False when
    the account was already so (nothing changed, nothing audited)."""
    user = await kept_user(session, admin, staff_id)
    _not_self(admin, user, "停用")
    if user.active == active:
        return False
    user.active = active
    _audit(session, admin, user, "reactivated" if active else "deactivated", None, None)
    await session.commit()
    return True


async def change_role(session: AsyncSession, admin: Staff, staff_id: int, *, role: str) -> bool:
    """A new role, in force at the user's next request; False when it is the role already."""
    user = await kept_user(session, admin, staff_id)
    _not_self(admin, user, "变更")
    if role not in ROLE_NAMES:
        raise InvalidInput("请选择角色 (unknown role)", kind="UnknownRole")
    if user.role == role:
        return False
    _audit(session, admin, user, "role", user.role, role)
    user.role = role
    await session.commit()
    return True


async def reset_password(session: AsyncSession, admin: Staff, staff_id: int) -> tuple[Staff, str]:
    """A new temporary password for the user (shown once to the administrator), audited without the password; every
    login of the user ends."""
    user = await kept_user(session, admin, staff_id)
    password = new_password()
    user.password_hash = await hashed(password)
    user.login_epoch += 1  # whoever was logged in as the user (the reason for a reset, often) is logged out now
    _audit(session, admin, user, "password", None, None)
    await session.commit()
    return user, password


@dataclass(frozen=True)
class ChangeRow:
    at: datetime
    user: str
    username: str
    court: str
    change: str
    by: str


def _value(kind: str, value: str | None, courts: dict[str, str]) -> str:
    if not value:
        return ""
    role, _, court = value.partition("@")
    text = ROLE_NAMES.get(role, role)
    return f"{text}（{courts.get(court, court)}）" if court else text


async def changes(session: AsyncSession, admin: Staff, *, limit: int = 50) -> list[ChangeRow]:
    """The newest changes to the accounts the administrator keeps, in words."""
    require_admin(admin)
    rows = (
        await session.execute(
            select(StaffChange, Staff)
            .join(Staff, StaffChange.staff_id == Staff.id)
            .join(Court, Staff.court_code == Court.code)
            .where(Court.path.startswith(admin.court.path))
            .order_by(StaffChange.at.desc(), StaffChange.id.desc())
            .limit(limit)
        )
    ).all()
    courts = {c.code: c.name for c in await courts_kept(session, admin)}
    by = {u for c, _ in rows for u in [c.by]}
    names = dict((await session.execute(select(Staff.username, Staff.name).where(Staff.username.in_(by)))).all())
    out = []
    for c, user in rows:
        what = CHANGE_NAMES.get(c.kind, c.kind)
        if c.kind == "role":
            what += f"：{_value(c.kind, c.old_value, courts)} → {_value(c.kind, c.new_value, courts)}"
        elif c.kind == "created":
            what += f"：{_value(c.kind, c.new_value, courts)}"
        out.append(
            ChangeRow(
                at=c.at,
                user=user.name,
                username=user.username,
                court=courts.get(user.court_code, user.court_code),
                change=what,
                by=names.get(c.by, c.by),
            )
        )
    return out
