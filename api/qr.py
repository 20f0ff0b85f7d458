"""The case QR code (seed 004: 案件二维码): the portal's link for the case, with the case number filled in, as an SVG
for the staff case page and a printable page (court, case number, code) to hand to the parties."""

from __future__ import annotations

import io

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import SessionDep, SettingsDep
from api.routes.pages import PageStaff, _me, _render, case_for_page
from domain.portal import PORTAL_PATH, portal_link

router = APIRouter(include_in_schema=False)


def qr_code(url: str) -> segno.QRCode:
    """A regular QR code (never a Micro QR: phones do not read those), error correction M: a printed and folded
    sheet still scans."""
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, *, scale: int = 4) -> bytes:
    """The code as a standalone SVG, black on white with the quiet zone, titled with the URL it holds."""
    out = io.BytesIO()
    qr_code(url).save(out, kind="svg", scale=scale, border=4, dark="#000", light="#fff", title=url, unit=None)
    return out.getvalue()


@router.get("/cases/{case_id}/qr.svg")
async def case_qr_svg(
    request: Request, case_id: str, staff: PageStaff, session: SessionDep, settings: SettingsDep
) -> Response:
    """The case's QR code (staff who may see the case)."""
    found = await case_for_page(request, session, staff, case_id)
    if isinstance(found, Response):
        return found
    _, case = found
    svg = qr_svg(portal_link(settings.public_base_url, case.case_number))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=300"})


@router.get("/cases/{case_id}/qr")
async def case_qr_print(
    request: Request, case_id: str, staff: PageStaff, session: SessionDep, settings: SettingsDep
) -> Response:
    """A page to print and hand to the parties: court, case number, the code and how to log in."""
    found = await case_for_page(request, session, staff, case_id)
    if isinstance(found, Response):
        return found
    me, case = found
    context = {
        "me": _me(me),
        "case": case,
        "link": portal_link(settings.public_base_url, case.case_number),
        "portal_home": settings.public_base_url + PORTAL_PATH,  # to type by hand: the number is on the sheet
    }
    return _render(request, "portal/qr_print.html", context)
