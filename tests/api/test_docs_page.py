"""``/docs`` is Swagger UI from this hub's own files: no other host named in the page, a
Content-Security-Policy that lets the browser reach this origin only (the one inline script
allowed by its hash), and every file it names served here. The browser test
(tests/web/test_offline.py) sees it render."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from tests.support.hub import Hub

pytestmark = pytest.mark.anyio


async def test_docs_page_names_only_this_hub(hub: Hub) -> None:
    page = await hub.client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"(?:src|href|url)\s*[=:]\s*['\"]?(?:https?:)?//", page.text), page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    (inline,) = re.findall(r"<script>(.*?)</script>", page.text, re.S)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    assert '"validatorUrl": null' in inline  # no schema sent to validator.swagger.io
    files = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert len(files) == 3, files  # the bundle, its stylesheet, the icon
    for path in files:
        assert (await hub.client.get(path)).status_code == 200, path
    assert (await hub.client.get("/openapi.json")).status_code == 200
    assert (await hub.client.get("/redoc")).status_code == 404  # it loaded from a CDN
