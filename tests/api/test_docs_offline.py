"""The API docs work offline (issue 11 item 5): /docs loads swagger-ui from the app itself, never from a CDN."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import Api

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@sqlite_only
async def test_the_docs_page_references_no_other_host_and_its_assets_are_served(api: Api) -> None:
    r = await api.http.get("/docs")
    assert r.status_code == 200
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']|url:\s*'([^']+)'""", r.text)
    urls = [u for pair in refs for u in pair if u]
    assert "/static/swagger/swagger-ui-bundle.js" in urls
    assert "/static/swagger/swagger-ui.css" in urls
    assert "/openapi.json" in urls
    assert all(not urlsplit(u).netloc and not u.startswith("//") for u in urls), urls
    assert not re.search(r"https?://", r.text.replace("http://www.w3.org", "")), "an absolute URL on the docs page"
    for u in urls:
        asset = await api.http.get(u)
        assert asset.status_code == 200, u
        assert asset.content
    assert "SwaggerUIBundle" in (await api.http.get("/static/swagger/swagger-ui-bundle.js")).text


@sqlite_only
async def test_redoc_from_a_cdn_is_gone_and_the_oauth_redirect_is_local(api: Api) -> None:
    assert (await api.http.get("/redoc")).status_code == 404
    r = await api.http.get("/docs/oauth2-redirect")
    assert r.status_code == 200 and "oauth2" in r.text.lower()
    assert not re.search(r"(?:src|href)=[\"']https?://", r.text)
