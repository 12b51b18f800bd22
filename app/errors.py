"""Domain errors raised by services; each door maps them to its own output (the API: status + JSON)."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"
    # True for a refusal that must keep what the action recorded before refusing (a major decision is
    # recorded as waiting for the legal office, then the completion is refused with 409): the unit of work
    # commits before the error goes on to the door.
    keeps_changes = False

    def __init__(self, message: str, details: list | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        if code:
            self.code = code


class Unauthenticated(DomainError):
    status, code = 401, "unauthenticated"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Invalid(DomainError):
    status, code = 422, "invalid"


class TooLarge(DomainError):
    status, code = 413, "too_large"
