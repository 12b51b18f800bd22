"""Rate limits (Flask-Limiter): storage from RATELIMIT_STORAGE_URI, so several app nodes can share one.

The public lookups — the progress query (API and page) and the 好差评 rating — draw on ONE budget per address
(PUBLIC_QUERY_RATE), so guessing case numbers through three doors gains nothing. With `memory://` each worker
process counts on its own: several workers or nodes need `redis://…` to share the budget. When that store cannot
be reached the lookups answer 503 (fail safe), never 500 and never unlimited.
"""
from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.errors import StorageError

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def _query_rate() -> str:
    return current_app.config["PUBLIC_QUERY_RATE"]


def public_lookup(methods=None):
    """The shared budget of the public lookups (decorator)."""
    return limiter.shared_limit(_query_rate, scope="public-lookup", methods=methods)


def store_unreachable(exc: BaseException) -> bool:
    """Whether `exc` is the limiter's store failing (Redis down), not the request's fault."""
    return isinstance(exc, StorageError) or type(exc).__module__.split(".")[0] == "redis"
