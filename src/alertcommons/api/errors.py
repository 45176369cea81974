"""Every error leaves as an RFC 9457 problem document, never as a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from alertcommons.problems import ProblemError, Unprocessable, problem_for_status

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("alertcommons.api")


def problem_response(error: ProblemError, request: Request) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
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
