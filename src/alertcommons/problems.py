"""Errors that reach a client, each with its HTTP status: one RFC 9457 problem shape.

The hub raises these; the API renders them as ``application/problem+json``:
``{"type", "title", "status", "detail", "instance"}`` plus any extension members
(``errors`` for validation, ``path`` for the offending element).
"""

from __future__ import annotations

from typing import Any, ClassVar

from alertcommons.errors import AlertCommonsError

PROBLEM_BASE = "https://alertcommons.org/problems/"


class ProblemError(AlertCommonsError):
    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            document["instance"] = instance
        document.update(self.extensions)
        return document


class BadRequest(ProblemError):
    pass


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed"


class ApprovalRequired(Forbidden):
    slug, title = "approval-required", "A second person must approve this"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(ProblemError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(ProblemError):
    status, slug, title = 422, "invalid-request", "The request cannot be processed"


class InvalidAlert(Unprocessable):
    slug, title = "invalid-alert", "The alert is not valid CAP 1.2"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "unavailable", "Service unavailable"


def problem_for_status(status: int, detail: str) -> ProblemError:
    classes: dict[int, type[ProblemError]] = {
        cls.status: cls
        for cls in (
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            MethodNotAllowed,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            Unprocessable,
            ServiceUnavailable,
        )
    }
    cls = classes.get(status)
    if cls is None:
        error = BadRequest(detail)
        error.status = status  # type: ignore[misc]
        return error
    return cls(detail)
