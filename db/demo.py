"""Demo data (development only, API.md): a court tree, one user per role in each basic court, and the high court's
administrator (``high_admin``), who alone enters holiday schedules."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import make_engine, make_sessions
from db.models import Court, CourtInformation, Staff
from domain.court_information import DEMO_TEXT
from domain.secrets import hash_secret

DEMO_PASSWORD = "demo-password"

# code, name, case prefix (法院代字), level, parent
COURTS = (
    ("YN", "云南省高级人民法院", "云", "high", None),
    ("YN01", "云南省昆明市中级人民法院", "云01", "intermediate", "YN"),
    ("YN0102", "昆明市五华区人民法院", "云0102", "basic", "YN01"),
    ("YN0103", "昆明市盘龙区人民法院", "云0103", "basic", "YN01"),
)

# role, demo name
ROLES = (
    ("registrar", "李立案"),
    ("handler", "王承办"),
    ("clerk", "赵书记"),
    ("bureau_chief", "陈局长"),
    ("vice_president", "刘副院长"),
    ("president", "张院长"),
    ("discipline", "周纪检"),
    ("supervisor", "吴审管"),
    ("admin", "孙信息"),
)

# Users of the upper courts: the administrator of the high court keeps the holiday calendar of every court below it;
# the supervisor (审管), the president and the bureau chief of the intermediate and the high court see the
# supervision of their subtree (DOMAIN.md → roles; api/access.py).
# username, role, demo name, court
UPPER_COURT_USERS = (
    ("high_admin", "admin", "钱信息", "YN"),
    ("mid_supervisor", "supervisor", "郑审管", "YN01"),
    ("mid_president", "president", "冯院长", "YN01"),
    ("mid_bureau_chief", "bureau_chief", "褚局长", "YN01"),
    ("high_supervisor", "supervisor", "卫审管", "YN"),
    ("high_president", "president", "蒋院长", "YN"),
    ("high_bureau_chief", "bureau_chief", "沈局长", "YN"),
)


def _court_path(code: str) -> str:
    by_code = {c[0]: c for c in COURTS}
    parts = []
    cur: str | None = code
    while cur:
        parts.append(cur)
        cur = by_code[cur][4]
    return "/" + "/".join(reversed(parts)) + "/"


def _phones(court_index: int, role_index: int) -> tuple[str, str]:
    """Office landline and office mobile; mobiles in the 147 range, unlikely to be a party's own number."""
    office = f"0871-6{court_index}{role_index:02d}{1000 + role_index}"
    mobile = f"1470871{court_index}{role_index:03d}"
    return office, mobile


async def _seed_court_information(session: AsyncSession) -> None:
    """Default text of each court's public information page (issue 10 item 6); its administrator replaces it."""
    now = datetime.now(UTC)
    for code, name, *_ in COURTS:
        for section, text in DEMO_TEXT.items():
            if await session.get(CourtInformation, (code, section)) is None:
                session.add(
                    CourtInformation(court_code=code, section=section, text=text.format(court=name), updated_at=now)
                )


async def seed(session: AsyncSession) -> int:
    """Insert what is missing; a second run changes nothing. Returns the number of users created."""
    for code, name, prefix, level, parent in COURTS:
        if await session.get(Court, code) is None:
            session.add(
                Court(
                    code=code,
                    name=name,
                    case_prefix=prefix,
                    level=level,
                    parent_code=parent,
                    path=_court_path(code),
                )
            )
    await session.flush()
    await _seed_court_information(session)
    created = 0
    password_hash = hash_secret(DEMO_PASSWORD)
    basic = [c for c in COURTS if c[3] == "basic"]
    for ci, court in enumerate(basic, 1):
        suffix = "" if ci == 1 else str(ci)
        for ri, (role, person) in enumerate(ROLES, 1):
            username = f"{role}{suffix}"
            if await session.scalar(select(Staff).where(Staff.username == username)) is not None:
                continue
            office, mobile = _phones(ci, ri)
            session.add(
                Staff(
                    username=username,
                    password_hash=password_hash,
                    name=person if ci == 1 else person + suffix,
                    role=role,
                    court_code=court[0],
                    office_phone=office,
                    mobile=mobile,
                    active=True,
                )
            )
            created += 1
    for ri, (username, role, person, court_code) in enumerate(UPPER_COURT_USERS, 1):
        if await session.scalar(select(Staff).where(Staff.username == username)) is not None:
            continue
        office, mobile = _phones(0, ri)
        session.add(
            Staff(
                username=username,
                password_hash=password_hash,
                name=person,
                role=role,
                court_code=court_code,
                office_phone=office,
                mobile=mobile,
                active=True,
            )
        )
        created += 1
    await session.commit()
    return created


async def main(url: str) -> None:
    engine = make_engine(url)
    async with make_sessions(engine)() as session:
        created = await seed(session)
    await engine.dispose()
    logging.getLogger("yangguang").warning(
        "demo court tree ready: %d users created, password %s", created, DEMO_PASSWORD
    )


def refusal(environment: str) -> str | None:
    """Why the demo users may not be seeded here, if they may not: everyone knows their password."""
    from core.settings import DEV_ENVIRONMENTS

    if environment in DEV_ENVIRONMENTS:
        return None
    return (
        f"拒绝写入演示用户：YG_ENVIRONMENT={environment}，演示用户的密码（{DEMO_PASSWORD}）人人皆知，"
        "只能用于开发或测试环境（YG_ENVIRONMENT=dev 或 test）。"
        " Refused: demo users with a known password are for YG_ENVIRONMENT=dev or test only."
    )


if __name__ == "__main__":
    from core.settings import EnvironmentOnly, Settings

    refused = refusal(EnvironmentOnly().environment)
    if refused:
        print(refused, file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else Settings().database_url))
