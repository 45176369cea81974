"""Every error leaves as an RFC 9457 problem document, never as a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from starlette.exceptions import HTTPException as StarletteHTTPException

from alertcommons.problems import (
    ProblemError,
    ServiceUnavailable,
    Unprocessable,
    problem_for_status,
)
from alertcommons.store.engine import StoreError, connection_lost

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("alertcommons.api")


# How long a client is told to wait when the database cannot be reached: a restart or a
# fail-over of PostgreSQL takes seconds.
DATABASE_RETRY_SECONDS = 5


def problem_response(
    error: ProblemError, request: Request, headers: dict[str, str] | None = None
) -> JSONResponse:
    if error.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(
        error.body(instance=request.url.path),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, error: ProblemError) -> JSONResponse:
        return problem_response(error, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "path": "/".join(str(part) for part in item.get("loc", ())),
                "message": str(item.get("msg", "invalid")),
            }
            for item in error.errors()
        ]
        problem = Unprocessable("the request does not have the expected shape", errors=errors)
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem_response(problem_for_status(error.status_code, str(error.detail)), request)

    async def _database(request: Request, error: Exception) -> JSONResponse:
        # The database is down, restarting or failing over: nothing was stored (a write is
        # one transaction, rolled back whole), and the same request will work again soon.
        # Any other database error is a bug, and stays a logged 500.
        if not connection_lost(error):
            return await _unexpected(request, error)
        reason = (str(getattr(error, "orig", error)).strip().splitlines() or ["?"])[0]
        log.warning(
            "database unreachable on %s %s: %s", request.method, request.url.path, reason[:200]
        )
        problem = ServiceUnavailable("the database cannot be reached just now; try again")
        retry = {"Retry-After": str(DATABASE_RETRY_SECONDS)}
        return problem_response(problem, request, retry)

    for kind in (DBAPIError, PendingRollbackError, StoreError):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        body = {
            "type": "about:blank",
            "title": "Internal error",
            "status": 500,
            "detail": "the hub could not complete this request; it has been logged",
            "instance": request.url.path,
        }
        return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)
