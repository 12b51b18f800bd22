"""Every error is `{"error": {"code", "message", "details"}}` with the right status; never an HTML page."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.errors import DomainError

log = logging.getLogger("sunlight.api")

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
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(RateLimitExceeded)
    def _limited(exc):
        return error_response(429, "too_many_requests", f"too many requests: {exc.description}")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        return error_response(status, _HTTP_CODES.get(status, "http_error"), exc.description or exc.name)

    @app.errorhandler(StaleDataError)
    def _stale(exc):  # a flush anywhere in the action found the case changed by someone else meanwhile
        return error_response(409, "stale_case", "the case was changed by someone else at the same moment; "
                                                 "reload and try again")

    @app.errorhandler(OperationalError)
    def _db_busy(exc):
        log.warning("database busy: %s", exc)
        return error_response(503, "database_busy", "the database is busy; try again in a moment")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")
