"""At-least-once delivery from an outbox table: the discipline the staff notices' mail and the applicant's SMS share.

A row is written pending in the same transaction as what it tells, so nothing is told that did not happen
and nothing that happened goes untold. A worker then sends it: the row is claimed in a short transaction
that takes a lease on it (pushes next_attempt_at forward), the message is sent with no transaction open,
and the result is recorded in a second short transaction. A crash between sending and recording lets the
lease run out and the message is sent once more; nothing is dropped. Holding a row lock across the network
instead would, on SQLite, hold the database's single write lock for as long as the remote server takes.

Retries back off exponentially (1 min, 2 min, 4 min … capped at 1 hour) and never stop. After MAX_ATTEMPTS
failures the row's status becomes "failed" so operators can find it, but it is still retried hourly and
becomes "sent" as soon as a retry succeeds.

A sender either returns (sent) or raises. `RecipientError` means "this message, not the channel" (a refused
address, a number the gateway rejects): the round goes on with other rows. Any other exception means the
channel itself is down, and the round stops using it instead of waiting on a dead server once per message.

This module sits at the bottom of the ladder (next to app.db): it knows outbox rows only by their columns
(id, channel, status, attempts, next_attempt_at, last_error, sent_at), never which room they belong to.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock

log = logging.getLogger("sunlight.outbox")

MAX_ATTEMPTS = 10  # after this many failures the row is flagged "failed" (and still retried hourly)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=10)  # a claimed row is left alone this long: it must outlast one send (a few timeouts)
RETRYING = ("pending", "failed")  # statuses still being delivered


class RecipientError(Exception):
    """This message cannot go as it is (its address, its content); the channel itself works."""


def backoff(attempts: int) -> timedelta:
    """How long to wait after the attempts-th failure: 1 min doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


@dataclass(frozen=True)
class Outbox:
    """What differs between outboxes: the table, what a claimed row's message is, how it is sent."""

    name: str  # for log lines: "notice delivery", "applicant message"
    model: type  # the mapped outbox table
    read: Callable[[Session, Any], Any]  # (session, claimed row) -> the message, so sending needs no session
    send: Callable[[str, Any], None]  # (channel, message) -> returns when sent; raises otherwise
    on_sent: Callable[[Any], None] | None = None  # what else a sent row forgets or sets (in the recording transaction)


def deliver_due(db, box: Outbox, channels, now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Send what is due on `channels`; returns (sent, failed) for this round.

    Safe to run in several workers at once: claims use FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite
    serialises writers anyway) and the lease keeps a claimed row away from other workers while it is sent.
    """
    live = list(channels)
    now = now or clock.now()
    sent = failed = 0
    tried: set[int] = set()  # each row at most once per round, even if its retry falls due within it
    while live and len(tried) < limit:
        with db.unit_of_work() as s:
            claimed = _claim(s, box, now, live, db.is_postgres, tried)
        if claimed is None:
            break
        row_id, channel, message = claimed
        tried.add(row_id)
        error = _send(box, channel, message, live)
        _record(db, box, row_id, error)
        if error is None:
            sent += 1
        else:
            failed += 1
    return sent, failed


def _send(box: Outbox, channel: str, message, live: list[str]) -> str | None:
    """Send one message with no transaction open; the error to record, or None when it went."""
    try:
        box.send(channel, message)
    except RecipientError as exc:
        return str(exc)
    except Exception as exc:  # the channel itself is down: don't wait on it again for every other row
        error = f"{type(exc).__name__}: {exc}"
        live.remove(channel)
        log.warning("%s channel %s unavailable, retrying later: %s", box.name, channel, error)
        return error
    return None


def _claim(s: Session, box: Outbox, now: datetime, live: list[str], is_postgres: bool, tried: set[int]):
    """Lease one due row and read what its message needs."""
    m = box.model
    query = (select(m).where(m.status.in_(RETRYING), m.channel.in_(live), m.next_attempt_at <= now)
             .order_by(m.next_attempt_at, m.id).limit(1))
    if tried:
        query = query.where(m.id.not_in(tried))
    if is_postgres:
        query = query.with_for_update(skip_locked=True)
    row = s.scalar(query)
    if row is None:
        return None
    row.attempts += 1
    row.next_attempt_at = clock.now() + LEASE
    return row.id, row.channel, box.read(s, row)


def _record(db, box: Outbox, row_id: int, error: str | None) -> None:
    with db.unit_of_work() as s:
        query = select(box.model).where(box.model.id == row_id)
        row = s.scalar(query.with_for_update() if db.is_postgres else query)
        if row.status == "sent":
            return  # our lease ran out and another worker sent it meanwhile: never undo a success
        at = clock.now()
        if error is None:
            row.status, row.sent_at, row.next_attempt_at = "sent", at, None
            if box.on_sent:
                box.on_sent(row)
            return
        row.last_error = error[:2000]
        row.next_attempt_at = at + backoff(row.attempts)
        if row.attempts >= MAX_ATTEMPTS:
            if row.status != "failed":
                log.error("%s %s has failed %d times (still retrying hourly): %s",
                          box.name, row_id, row.attempts, error)
            row.status = "failed"
