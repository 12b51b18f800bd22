"""What every endpoint needs: a unit of work, the settings, the caller, and a checked JSON body."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import DomainError, Forbidden, Invalid
from app.orgs import service as orgs
from app.orgs.models import User
from app.settings import Settings


class BadRequest(DomainError):
    status, code = 400, "malformed"


class UnsupportedMediaType(DomainError):
    status, code = 415, "unsupported_media_type"


def db() -> Database:
    return current_app.extensions["sunlight.db"]


def settings() -> Settings:
    return current_app.extensions["sunlight.settings"]


def caller(session: Session, *roles: str) -> User:
    """The user behind the bearer token (401 without one); 403 unless their role is among `roles`."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    user = orgs.authenticate_token(session, token, settings().token_cache_seconds)
    if roles and user.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)}; you are {user.role}")
    return user


def json_body(required: bool = True) -> dict:
    """The request's JSON object; 415 for another content type, 400 for malformed JSON."""
    if not request.get_data(cache=True):
        if required:
            raise BadRequest("a JSON body is required")
        return {}
    if not request.is_json:
        raise UnsupportedMediaType("send JSON with Content-Type: application/json")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("the JSON is nested too deeply") from None
    if body is None:
        raise BadRequest("the body is not valid JSON")
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    if _depth(body) > MAX_JSON_DEPTH:
        raise BadRequest(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep", details=[{"field": "body"}])
    return body


MAX_JSON_DEPTH = 32  # no request of the contract nests beyond a few levels; deep ones only cost recursion


def _depth(value, level: int = 1) -> int:
    """How deeply `value` nests (iterative: a hostile body must not exhaust the stack here either)."""
    deepest, stack = level, [(value, level)]
    while stack:
        node, at = stack.pop()
        deepest = max(deepest, at)
        if deepest > MAX_JSON_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, at + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


PAGE_MAX = 200  # rows in one answer of a staff list (#14): never a whole table


def whole_arg(name: str, default: int, low: int, high: int) -> int:
    """A paging parameter: absent → `default`; not a whole number or out of [low, high] → 422 naming it."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}", details=[{"field": name}])
    return int(raw)


def page_args(default_per_page: int = PAGE_MAX) -> tuple[int, int]:
    """`page` (1…100000) and `per_page` (1…200) of a paged list."""
    return whole_arg("page", 1, 1, 100_000), whole_arg("per_page", default_per_page, 1, PAGE_MAX)


def next_link(**params) -> str:
    """A `Link` header pointing at the next page: this request's path and arguments with `params` replaced."""
    args = {**request.args.to_dict(), **{k: str(v) for k, v in params.items()}}
    return f'<{request.path}?{urlencode(args)}>; rel="next"'
