"""``/docs``: the API, browsable, from this hub alone.

FastAPI's own ``/docs`` loads Swagger UI from a CDN, so offline it is a blank page. Here the
same page loads the Swagger UI files that ``make assets`` copies from the npm registry
(``swagger-ui-dist``, pinned in package-lock.json) into ``/static/vendor/swagger-ui/``.
The page's Content-Security-Policy allows this hub's own origin only, so neither Swagger UI
nor anything it may grow later can reach another host from a reader's browser; the one
inline script (Swagger UI's start-up call, written by FastAPI) is allowed by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html

router = APIRouter(include_in_schema=False)
VENDOR = "/static/vendor/swagger-ui"
# Swagger UI's defaults would send the schema's address to validator.swagger.io for the
# "valid" badge whenever the hub is not on localhost; nothing leaves the hub.
PARAMETERS = {"validatorUrl": None}


def page(openapi_url: str, title: str) -> Response:
    html = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} — API",
        swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR}/favicon-32x32.png",
        oauth2_redirect_url=None,
        swagger_ui_parameters=PARAMETERS,
    )
    body = bytes(html.body)
    inline = re.findall(rb"<script>(.*?)</script>", body, flags=re.S)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in inline
    )
    return Response(
        body,
        media_type="text/html",
        headers={
            # Swagger UI sets style attributes from script: inline styles are allowed,
            # inline scripts only by hash, and every request goes to this origin.
            "Content-Security-Policy": (
                f"default-src 'self'; script-src 'self' {hashes}; "
                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


@router.get("/docs")
async def docs(request: Request) -> Response:
    return page(request.app.openapi_url or "/openapi.json", request.app.title)
