"""Public pages, no login (seed 002 第一条; seed 001 第二条): the five public lists with search and paging, and each
court's information page; and the console form where a court's administrator writes that page.

The lists come from the same function as GET /api/public/{list} (api/routes/public.py ``list_page``), so the pages
show exactly what the JSON shows, masked once, by the activity that writes the entries."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api import court_info
from api.deps import SessionDep
from api.routes.pages import PageStaff, _chinese, _cross_site, _form, _me, _not_found, _render, _to_login
from api.routes.public import list_page
from api.schemas import clean_text
from db import queries
from db.models import Staff
from domain.clock import beijing_date
from domain.court_information import SECTION_SPECS, SECTIONS, paragraphs
from domain.errors import Forbidden, InvalidInput, NotFound, YgError
from domain.public_lists import LIST_TITLES, PUBLIC_LISTS

PAGE_SIZE = 10
MAX_PAGE = 10_000
MAX_SEARCH = 64
LIST_NOTES = {
    "unfinished-cases": "正在执行中的执行实施案件。",
    "dishonest": "被依法纳入失信被执行人名单的被执行人。",
    "exit-restrictions": "被依法限制出境的被执行人。",
    "consumption-restrictions": "被依法限制高消费及非生活和工作必需消费的被执行人。",
    "bidding-restrictions": "被依法限制参加招标投标活动的被执行人。",
}
SAVED_NOTICE = "已保存，公开页面即时更新。"

router = APIRouter(include_in_schema=False)


def _public(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    response = _render(request, name, {"lists": LIST_TITLES, **context}, status=status)
    response.headers["Cache-Control"] = "no-cache"  # public, but a lifted listing must vanish at once
    return response


def _problem(request: Request, detail: str, status: int) -> HTMLResponse:
    return _public(request, "public/problem.html", {"detail": _chinese(detail)}, status=status)


def _page_number(raw: str) -> int:
    """A page number from the URL; anything else is the first page (a hand-edited URL is no error)."""
    return min(int(raw), MAX_PAGE) if raw.isdigit() and 0 < len(raw) <= 6 and int(raw) > 0 else 1


def _search(raw: str) -> str:
    """The search text, bounded and without characters no database takes (an invalid one searches for nothing)."""
    text = raw.strip()[:MAX_SEARCH]
    try:
        return clean_text(text)
    except ValueError:
        return ""


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


@router.get("/public")
async def public_index(request: Request, session: SessionDep) -> Response:
    """The five lists with how many are on each, a search over one of them, and every court's information page."""
    counts = {name: (await list_page(session, name, limit=1)).total for name in PUBLIC_LISTS}
    courts = await queries.courts(session)
    return _public(request, "public/index.html", {"counts": counts, "notes": LIST_NOTES, "courts": courts})


@router.get("/public/search")
async def public_search(list: str = "", q: str = "") -> Response:
    """The index's search form: to the chosen list's page with the search (an unknown list: the first one)."""
    name = list if list in PUBLIC_LISTS else PUBLIC_LISTS[0]
    search = _search(q)
    return RedirectResponse(f"/public/lists/{name}" + (f"?{urlencode({'q': search})}" if search else ""), 303)


@router.get("/public/lists/{list_name}")
async def public_list_page(
    request: Request, list_name: str, session: SessionDep, q: str = "", court: str = "", page: str = "1"
) -> Response:
    """One list: search by name or case number, within a court and those below it, ten to a page."""
    search, number = _search(q), _page_number(page)
    try:
        found = await list_page(
            session,
            list_name,
            court=court or None,
            search=search or None,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
    except NotFound as e:
        return _problem(request, e.detail, 404)
    pages = _pages(found.total)

    def link(to: int) -> str:
        query = {k: v for k, v in (("q", search), ("court", court), ("page", str(to))) if v and (k != "page" or to > 1)}
        return f"/public/lists/{list_name}" + (f"?{urlencode(query)}" if query else "")

    context = {
        "list_name": list_name,
        "title": LIST_TITLES[list_name],  # type: ignore[index]  # list_page refused any other name
        "note": LIST_NOTES[list_name],
        "rows": [(i, beijing_date(i.since)) for i in found.items],  # listed on: the Beijing day
        "total": found.total,
        "q": search,
        "court": court,
        "courts": await queries.courts(session),
        "page": number,
        "pages": pages,
        "first": found.offset + 1,
        "last": found.offset + len(found.items),
        "previous": link(number - 1) if number > 1 else None,
        "next": link(number + 1) if number < pages else None,
        "with_filed_on": list_name == "unfinished-cases",
        "with_amount": list_name in ("unfinished-cases", "dishonest"),
    }
    return _public(request, "public/list.html", context)


@router.get("/public/courts/{court_code}")
async def court_information_page(request: Request, court_code: str, session: SessionDep) -> Response:
    """A court's information page: guide to applying, fees, risk notice, supervision hotline, bureau chief's mailbox."""
    try:
        court = await court_info.court_of(session, court_code)
    except NotFound as e:
        return _problem(request, e.detail, 404)
    info = await court_info.information(session, court)
    sections = [{"title": s.title, "paragraphs": paragraphs(s.text), "updated_at": s.updated_at} for s in info.sections]
    return _public(request, "public/court.html", {"court": court, "sections": sections})


# ---------------------------------------------------------------- the console form of the court's administrator


async def _admin_page(
    request: Request,
    session: SessionDep,
    staff: Staff,
    *,
    form: dict[str, str] | None = None,
    error: YgError | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    info = await court_info.information(session, staff.court)
    texts = form or {s.section: s.text for s in info.sections}
    context = {
        "me": _me(staff),
        "active": "court_information",
        "court": staff.court,
        "sections": [
            {"section": s, "spec": SECTION_SPECS[s], "text": texts.get(s, ""), "updated_at": _updated(info, s)}
            for s in SECTIONS
        ],
        "changes": (await court_info.changes(session, staff.court, limit=20)).items,
        "error": error,
        "notice": notice,
    }
    return _render(request, "public/admin.html", context, status=status)


def _updated(info: court_info.CourtInformationOut, section: str) -> Any:
    return next((s.updated_at for s in info.sections if s.section == section), None)


@router.get("/admin/court-information")
async def court_information_form(request: Request, staff: PageStaff, session: SessionDep, saved: str = "") -> Response:
    if staff is None:
        return _to_login(request)
    try:
        court_info.require_court_admin(staff, staff.court)
    except YgError as e:
        return _not_found(request, staff, e.detail)
    return await _admin_page(request, session, staff, notice=SAVED_NOTICE if saved == "1" else None)


@router.post("/admin/court-information")
async def save_court_information_form(request: Request, staff: PageStaff, session: SessionDep) -> Response:
    """Save through the same service as PUT /api/courts/{code}/information (audited)."""
    if staff is None:
        return _to_login(request, back_to="/admin/court-information")
    form = await _form(request)
    texts: dict[str, str] = {s: form.get(s, "") for s in SECTIONS}
    try:
        if _cross_site(request):
            raise Forbidden("请求来源不正确", kind="CrossSite")
        body = court_info.CourtInformationIn.model_validate(texts)
        await court_info.save(session, staff=staff, court=staff.court, body=body)
    except ValidationError as e:
        problems = "；".join(
            f"{SECTION_SPECS[str(err['loc'][0])].title}{_length(err)}"  # type: ignore[index]
            for err in e.errors()
        )
        error = InvalidInput(f"以下内容填写有误：{problems}", kind="InvalidInput")
        return await _admin_page(request, session, staff, form=texts, error=error, status=422)
    except YgError as e:
        return await _admin_page(request, session, staff, form=texts, error=e, status=e.status)
    return RedirectResponse("/admin/court-information?saved=1", status_code=303)


def _length(err: Any) -> str:
    if err.get("type") == "string_too_long":
        return f"不能超过 {err['ctx']['max_length']} 个字符"
    return str(err.get("msg", "")).removeprefix("Value error, ")
