"""A request cut short by the server itself still gets the JSON error shape (app/api/errors.py), not gunicorn's HTML.

When gunicorn's arbiter finds a sync worker silent for longer than `timeout` (a request that runs too long), it
sends the worker SIGABRT. The worker's handler (gunicorn/workers/base.py `handle_abort`) sets `alive = False` and
calls `sys.exit(1)`: the SystemExit is raised inside the request, wherever the handler interrupted it. Flask lets
a SystemExit pass (it catches Exception only) after popping the request context, so the request's unit of work
is rolled back and closed by its teardown. Left alone, gunicorn would catch it and answer an HTML
"500 Internal Server Error".

`AbortedRequests` wraps the whole WSGI app (outside Flask, so it needs no app context): it catches that
SystemExit, answers 503 `{"error": {"code": "timeout", …}}` and returns normally. The sync worker writes the
answer, then leaves its loop because `alive` is already False, and exits; the arbiter starts a fresh one. A
SystemExit with another code (SIGINT/SIGQUIT: `sys.exit(0)`, an immediate shutdown in the middle of a request)
gets 503 `shutting_down`. If the answer had already begun (a streamed body) nothing can be changed: the
SystemExit goes on to the server, which closes the connection.

gunicorn's config for this is app/gunicorn_conf.py (`gunicorn -c python:app.gunicorn_conf wsgi:app`).
"""
from __future__ import annotations

import json
import logging

log = logging.getLogger("sunlight.served")

TIMEOUT_MESSAGE = "the request took too long and was stopped; nothing it did was saved; try again later"
SHUTDOWN_MESSAGE = "the server is shutting down; nothing this request did was saved; try again in a moment"


def _body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()


class AbortedRequests:
    """WSGI middleware: a request interrupted by the worker's own exit answers 503 JSON instead of HTML 500."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        started = []

        def remember_start(status, headers, exc_info=None):
            started.append(status)
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, remember_start)
        except SystemExit as exc:
            timed_out = exc.code not in (0, None)  # gunicorn: SIGABRT (worker timeout) exits 1, SIGQUIT/SIGINT 0
            log.error("request %s %s stopped by the worker's %s", environ.get("REQUEST_METHOD"),
                      environ.get("PATH_INFO"), "timeout" if timed_out else "shutdown")
            code, message = ("timeout", TIMEOUT_MESSAGE) if timed_out else ("shutting_down", SHUTDOWN_MESSAGE)
            body = _body(code, message)
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                       ("Retry-After", "30"), ("Connection", "close")]
            # start_response with exc_info replaces headers not yet sent; if they were sent it re-raises (PEP 3333)
            start_response("503 SERVICE UNAVAILABLE", headers, (type(exc), exc, exc.__traceback__) if started
                           else None)
            return [body]
