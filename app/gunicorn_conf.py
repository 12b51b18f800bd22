"""gunicorn's settings for Sunlight: `gunicorn -c python:app.gunicorn_conf wsgi:app` (README, "Deployment").

Every value can be changed from the environment (below) or on the command line, which wins over this file
(`gunicorn -c python:app.gunicorn_conf --workers 2 wsgi:app`). gunicorn reads it in the arbiter before any worker
loads the app; it uses nothing of the app but the package's import (`app/__init__.py` builds no app by itself).

A worker silent for longer than `timeout` (one request running too long) is stopped by the arbiter with SIGABRT;
the request it was serving gets 503 `{"error": {"code": "timeout", …}}` from app/served.py's middleware (not
gunicorn's HTML 500), its unit of work is rolled back, and the worker exits and is replaced. That needs the sync
worker class, where the signal interrupts the request itself.
"""
from __future__ import annotations

import logging
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where to listen: host:port, or unix:/path for a socket behind the reverse proxy.
bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]
# One sync worker serves one request at a time; gunicorn's usual advice is 2 × cores + 1. Each holds its own
# database connection pool, so workers × app nodes × pool size must stay under PostgreSQL's max_connections.
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"  # app/served.py's 503 relies on it (see above)
# Seconds a request may run before its worker is stopped (503 timeout). Every action also has its own CPU
# budget (EVALUATION_BUDGET_SECONDS), so this catches what the budget cannot see: a slow database, a lock wait.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM / a reload, seconds a worker may finish the request it is serving before it is killed.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Behind a reverse proxy that closes the connection after each answer keep-alive matters little; short.
keepalive = 2
# A worker is replaced after this many requests (plus up to the jitter, so they do not all restart together):
# whatever a long-lived process slowly accumulates is given back. 0 turns it off.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Request line (method, path and query) and headers: gunicorn's own caps, stated here so they are not forgotten.
# A longer request line gets 414 and oversized headers 400, from gunicorn itself, before the app sees them.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 4094)
limit_request_fields = 100
limit_request_field_size = 8190
# The access log (one line a request, on stderr) is off unless GUNICORN_ACCESS_LOG=1: the reverse proxy usually
# keeps one already. The error log (worker starts, timeouts, the app's own log) always goes to stderr.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "0") == "1" else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def worker_abort(worker) -> None:
    """Called in the worker when the arbiter's SIGABRT arrives, just before the SystemExit app/served.py answers."""
    logging.getLogger("sunlight.served").error("worker %s timed out after %ss: its request is stopped",
                                               worker.pid, worker.cfg.timeout)
