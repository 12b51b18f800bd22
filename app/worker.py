"""The timer worker (a door that wakes on time): fires due timers through the cases service.

Due cases are claimed in batches, each batch in its own transaction (FOR UPDATE SKIP LOCKED on PostgreSQL),
so several workers can run at once and each timer fires exactly once; a crash loses nothing, because an
unfinished transaction leaves its cases due for the next sweep.
"""
from __future__ import annotations

import gc
import logging
import threading

from sqlalchemy.exc import OperationalError

from app import builtin_topics, clock, engine
from app.cases import service as cases
from app.db import Database
from app.documents import service as documents
from app.messages import sms
from app.settings import Settings
from app.supervision import outbox

log = logging.getLogger("sunlight.timers")


BATCH = 100  # due cases claimed and written per transaction (their locks are held for ~0.3 s)


def sweep(db: Database, settings: Settings, limit: int = 10_000, batch: int = BATCH) -> int:
    """Handle every case whose wake-up time has come; returns how many timers/signals/escalations fired."""
    fired = 0
    now = clock.now()
    # The sweep walks the due cases once, in (wake_at, id) order with a cursor: a case woken here whose wake-up
    # time did not move is not claimed again by this sweep (one that moved but is still due may be — it is due
    # again); `limit` bounds the sweep either way. (A cursor, not a NOT IN list of every id handled so far.)
    handled, cursor = 0, None
    while handled < limit:
        with db.unit_of_work() as s:
            claimed = cases.claim_due(s, now, db.is_postgres, limit=min(batch, limit - handled), after=cursor)
            if not claimed:
                break
            fired += _wake_batch(s, settings, [case_id for case_id, _wake in claimed])
        handled += len(claimed)
        cursor = (claimed[-1][1], claimed[-1][0])
    # Service tasks Sunlight serves itself (tell the applicant, publish the decision), each in its own
    # transaction; what they tell is then sent below with the rest.
    served = builtin_topics.serve_due(db, settings)
    if served:
        log.info("built-in tasks: %d served", served)
    rendered = documents.render_pending(db, settings)  # PDFs of documents the actions issued (≈0.5 s at most)
    if rendered:
        log.info("documents rendered: %d", rendered)
    # Then the mail (and any other outbox channel) of what was just raised and of earlier retries; this is
    # after the case transactions committed, so a slow mail server never holds a case lock.
    sent, failed = outbox.deliver_due(db, settings)
    if sent or failed:
        log.info("notice deliveries: %d sent, %d failed (will retry)", sent, failed)
    sent, failed = sms.deliver_due(db, settings)  # what the applicants were told, by SMS
    if sent or failed:
        log.info("applicant messages: %d sent, %d failed (will retry)", sent, failed)
    return fired


def _wake_batch(s, settings: Settings, case_ids: list[int]) -> int:
    """The whole batch in one go; if any case in it fails, the batch is rolled back and redone one case at a
    time (still under this transaction's locks), so one broken case costs only itself."""
    try:
        with s.begin_nested():
            return cases.wake(s, settings, case_ids)
    except Exception:  # noqa: BLE001 — which case failed is found out below, case by case
        pass
    return sum(_wake_alone(s, settings, case_id) for case_id in case_ids)


def _wake_alone(s, settings: Settings, case_id: int) -> int:
    broken, code, element = "", "engine_error", None
    try:
        with s.begin_nested():
            return cases.wake(s, settings, [case_id])
    except engine.EngineError as exc:
        broken, element = exc.message, exc.element_id
        if isinstance(exc, engine.TooExpensive):  # fails the same way next time: postponed for longer
            code = "too_expensive"
            log.warning("timer of case %s over its work budget at %s; postponed", case_id, element)
    except Exception as exc:  # anything else must not stop the sweep for every other case
        log.exception("timer of case %s failed", case_id)
        broken = f"{type(exc).__name__}: {exc}"
    cases.postpone_broken_timer(s, case_id, broken, code=code, element_id=element)
    return 0


def freeze_long_lived() -> None:
    """Take what the process holds now (the app, parsed specs, compiled SQL) out of the cycle collector's
    sight. A sweep allocates enough to trigger a full collection every few hundred cases, and a full
    collection over all of that costs 0.1–0.2 s, paid in the middle of a sweep; frozen, it is skipped."""
    gc.collect()
    gc.freeze()


def run_forever(db: Database, settings: Settings, poll_seconds: float, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    log.info("timer worker polling every %.2f s", poll_seconds)
    first = True
    while not stop.is_set():
        try:
            fired = sweep(db, settings)
            if fired:
                log.info("fired %d timer(s)", fired)
        except OperationalError as exc:  # the database went away for a moment: try again next poll
            log.warning("timer sweep failed: %s", exc)
        if first:  # by now the specs and statements in use are loaded: they live as long as the process
            freeze_long_lived()
            first = False
        stop.wait(poll_seconds)
