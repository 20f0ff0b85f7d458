"""The court tree (API.md → Staff authentication: GET /api/courts)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep
from api.schemas import CourtOut
from db import queries
from domain.nodes import CATALOGUE

router = APIRouter(prefix="/api", tags=["reference"])


@router.get("/courts")
async def list_courts(session: SessionDep) -> list[CourtOut]:
    return [
        CourtOut(code=c.code, name=c.name, level=c.level, parent_code=c.parent_code, case_prefix=c.case_prefix)
        for c in await queries.courts(session)
    ]


@router.get("/node-types")
async def list_node_types() -> list[dict[str, object]]:
    """The node catalogue (seed 001 第三条): code, Chinese name, category, disclosed by default, fields."""
    return [
        {
            "code": n.code,
            "name": n.name,
            "category": n.category,
            "disclosed": n.disclosed,
            "scheduled": n.scheduled,
            "required": list(n.required),
        }
        for n in CATALOGUE
    ]
