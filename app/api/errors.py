"""Every error is `{"error": {"code", "message", "details"}}` with the right status; never an HTML page."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response
from flask_limiter.errors import RateLimitExceeded
from flask import request
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.engine.problem_texts import with_zh
from app.errors import DomainError, NotFound

from .limits import store_unreachable

MAX_ID = 2**31 - 1  # the largest id a column holds: beyond it nothing can exist


def refuse_nul_and_huge_ids() -> None:
    """Before any service sees the request: no NUL character in the path or query (PostgreSQL cannot store or
    compare it), and an id beyond the columns' range is simply not found."""
    if "\x00" in request.path:
        raise DomainError("the address holds a NUL character", code="malformed", details=[{"field": "path"}])
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            raise DomainError(f"the query parameter {key[:40]!r} holds a NUL character", code="malformed",
                              details=[{"field": key[:40]}])
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFound(f"no such {name}")

log = logging.getLogger("sunlight.api")

# Errors whose details are problems of a diagram or of a running case ({element_id, line, message}): each gets
# its Chinese text beside the English (`message_zh`, app/engine/problem_texts.py).
PROBLEM_CODES = frozenset({"invalid_bpmn", "engine_error", "too_expensive"})

_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid", 429: "too_many_requests"}


def error_response(status: int, code: str, message: str, details: list | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or []}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        details = with_zh(exc.details) if exc.code in PROBLEM_CODES else exc.details
        return error_response(exc.status, exc.code, exc.message, details)

    @app.errorhandler(RateLimitExceeded)
    def _limited(exc):
        return error_response(429, "too_many_requests", f"too many requests: {exc.description}")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        page = app.extensions.get("sunlight.browser_error")  # the pages' door, when it is installed
        shown = page(status) if page and status in (404, 405) else None
        if shown is None:
            shown = error_response(status, _HTTP_CODES.get(status, "http_error"), exc.description or exc.name)
        return _with_allow(shown, exc)

    @app.errorhandler(StaleDataError)
    def _stale(exc):  # a flush anywhere in the action found the case changed by someone else meanwhile
        return error_response(409, "stale_case", "the case was changed by someone else at the same moment; "
                                                 "reload and try again")

    @app.errorhandler(DataError)
    def _data(exc):  # a value the database refused (too long for its column, out of range): the caller's
        log.info("value refused by the database: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return error_response(422, "invalid", "a value is too long or out of range for what it is stored in")

    @app.before_request
    def _plain_request():  # the API's blueprints have the OpenAPI document's check instead (app/api/validation.py)
        if request.blueprint not in app.extensions.get("sunlight.validated_blueprints", ()):
            refuse_nul_and_huge_ids()

    @app.errorhandler(OperationalError)
    def _db_busy(exc):
        log.warning("database busy: %s", exc)
        return error_response(503, "database_busy", "the database is busy; try again in a moment")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if store_unreachable(exc):  # fail safe: no lookup goes uncounted, and the caller is told to come back
            log.warning("rate-limit store unreachable: %s", exc)
            return error_response(503, "rate_limit_unavailable", "the service is busy; try again in a moment")
        log.exception("unexpected error")
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def _with_allow(answer, exc: HTTPException):
    """A 405 keeps werkzeug's Allow header (RFC 9110: it lists the methods the address does support)."""
    allow = dict(exc.get_headers()).get("Allow")
    if not allow:
        return answer
    response = make_response(answer)
    response.headers["Allow"] = allow
    return response
