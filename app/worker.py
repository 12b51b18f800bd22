"""The timer worker (a door that wakes on time): fires due timers through the cases service.

Each due case is claimed and handled in its own transaction (FOR UPDATE SKIP LOCKED on PostgreSQL), so
several workers can run at once and each timer fires exactly once; a crash loses nothing, because an
unfinished transaction leaves the case due for the next sweep.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import OperationalError

from app import clock, engine
from app.cases import service as cases
from app.db import Database
from app.settings import Settings
from app.supervision import outbox

log = logging.getLogger("sunlight.timers")


def sweep(db: Database, settings: Settings, limit: int = 10_000) -> int:
    """Handle every case whose wake-up time has come; returns how many timers/signals/escalations fired."""
    fired = 0
    now = clock.now()
    handled: set[int] = set()  # a case is handled once per sweep, even if it is still due afterwards
    while len(handled) < limit:
        broken: tuple[int, str] | None = None
        with db.unit_of_work() as s:
            case_id = cases.claim_due_case(s, now, db.is_postgres, exclude=handled)
            if case_id is None:
                break
            try:
                with s.begin_nested():
                    fired += cases.wake(s, settings, case_id)
            except engine.EngineError as exc:
                broken = (case_id, exc.message)
            except Exception as exc:  # anything else must not stop the sweep for every other case
                log.exception("timer of case %s failed", case_id)
                broken = (case_id, f"{type(exc).__name__}: {exc}")
            if broken:
                cases.postpone_broken_timer(s, *broken)
        handled.add(case_id)
    # Then the mail (and any other outbox channel) of what was just raised and of earlier retries; this is
    # after the case transactions committed, so a slow mail server never holds a case lock.
    sent, failed = outbox.deliver_due(db, settings)
    if sent or failed:
        log.info("notice deliveries: %d sent, %d failed (will retry)", sent, failed)
    return fired


def run_forever(db: Database, settings: Settings, poll_seconds: float, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    log.info("timer worker polling every %.2f s", poll_seconds)
    while not stop.is_set():
        try:
            fired = sweep(db, settings)
            if fired:
                log.info("fired %d timer(s)", fired)
        except OperationalError as exc:  # the database went away for a moment: try again next poll
            log.warning("timer sweep failed: %s", exc)
        stop.wait(poll_seconds)
