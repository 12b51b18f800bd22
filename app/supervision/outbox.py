"""The notice outbox: every notice is delivered to every recipient on every channel, with retries.

The in-app inbox is the database itself (a notice's recipients), so it is delivered when the notice commits. Other channels
(SMTP, configured by environment: Settings.notice_channels) get a pending row in the same transaction as
the notice, and the timer worker sends them afterwards (deliver_due), so a notice never waits for a mail
server and a mail is never lost: a row only ever leaves "pending" by being sent.

Delivery is at-least-once. Each row is claimed in a short transaction that takes a lease on it (pushes
next_attempt_at forward), the message is sent with no transaction open, and the result is recorded in a
second short transaction. A crash between sending and recording lets the lease run out and the message
is sent once more; nothing is dropped. Holding a row lock across the network instead would, on SQLite,
hold the database's single write lock for as long as the mail server takes.

Retries back off exponentially (1 min, 2 min, 4 min … capped at 1 hour) and never stop. After
MAX_ATTEMPTS failures the row's status becomes "failed" so operators can find it (status = 'failed'),
but it is still retried hourly and becomes "sent" as soon as a retry succeeds.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.orgs.models import User

from . import channels as channel_senders
from .models import NoticeDelivery, SupervisionNotice

log = logging.getLogger("sunlight.outbox")

MAX_ATTEMPTS = 10  # after this many failures the row is flagged "failed" (and still retried hourly)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=10)  # a claimed row is left alone this long: it must outlast one send (a few SMTP_TIMEOUTs)
RETRYING = ("pending", "failed")  # statuses still being delivered


def enqueue(session: Session, notice, recipients, channels: Iterable[str]) -> None:
    """Outbox rows for a new notice on each active channel beyond the inbox.

    The inbox needs no row: a notice's recipients are its inbox entries, delivered by the very commit
    that raises it. The rows hang on the notice, so they are written with it at the next flush.
    """
    now = clock.now()
    channels = tuple(channels)
    for user in {u.id: u for u in recipients}.values():
        for channel in channels:
            if channel == "smtp" and not user.email:
                continue  # nobody to mail: the inbox still has it
            session.add(NoticeDelivery(notice=notice, user_id=user.id, channel=channel, status="pending",
                                       attempts=0, next_attempt_at=now))


def backoff(attempts: int) -> timedelta:
    """How long to wait after the attempts-th failure: 1 min doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


def deliver_due(db, settings, now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Send what is due on the active channels; returns (sent, failed) for this round.

    Safe to run in several workers at once: claims use FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite
    serialises writers anyway) and the lease keeps a claimed row away from other workers while it is sent.
    """
    live = [c for c in settings.notice_channels if c in channel_senders.SENDERS]
    if not live:
        return 0, 0
    now = now or clock.now()
    sent = failed = 0
    tried: set[int] = set()  # each row at most once per round, even if its retry falls due within it
    while live and len(tried) < limit:
        with db.unit_of_work() as s:
            claimed = _claim(s, now, live, db.is_postgres, tried)
        if claimed is None:
            break
        delivery_id, channel, mail = claimed
        tried.add(delivery_id)
        error = None
        try:
            if mail is None:
                raise channel_senders.RecipientError("the user has no email address")
            channel_senders.SENDERS[channel](mail, settings)
        except channel_senders.RecipientError as exc:
            error = str(exc)
        except Exception as exc:  # the channel itself is down: don't wait on it again for every other row
            error = f"{type(exc).__name__}: {exc}"
            live.remove(channel)
            log.warning("notice channel %s unavailable, retrying later: %s", channel, error)
        _record(db, delivery_id, error)
        if error is None:
            sent += 1
        else:
            failed += 1
    return sent, failed


def _claim(s: Session, now: datetime, live: list[str], is_postgres: bool, tried: set[int]):
    """Lease one due row and read what its message needs, so the send itself needs no session."""
    from app.cases.models import Case

    query = (select(NoticeDelivery).where(NoticeDelivery.status.in_(RETRYING), NoticeDelivery.channel.in_(live),
                                          NoticeDelivery.next_attempt_at <= now)
             .order_by(NoticeDelivery.next_attempt_at, NoticeDelivery.id).limit(1))
    if tried:
        query = query.where(NoticeDelivery.id.not_in(tried))
    if is_postgres:
        query = query.with_for_update(skip_locked=True)
    row = s.scalar(query)
    if row is None:
        return None
    row.attempts += 1
    row.next_attempt_at = clock.now() + LEASE
    notice = s.get(SupervisionNotice, row.notice_id)
    email = s.scalar(select(User.email).where(User.id == row.user_id))
    case_no = s.scalar(select(Case.case_no).where(Case.id == notice.case_id)) if notice.case_id else None
    mail = channel_senders.Mail(to=email, level=notice.level, reason=notice.reason, case_no=case_no,
                                created_at=notice.created_at, notice_id=notice.id,
                                delivery_id=row.id) if email else None
    return row.id, row.channel, mail


def _record(db, delivery_id: int, error: str | None) -> None:
    with db.unit_of_work() as s:
        query = select(NoticeDelivery).where(NoticeDelivery.id == delivery_id)
        row = s.scalar(query.with_for_update() if db.is_postgres else query)
        if row.status == "sent":
            return  # our lease ran out and another worker sent it meanwhile: never undo a success
        at = clock.now()
        if error is None:
            row.status, row.sent_at, row.next_attempt_at = "sent", at, None
            return
        row.last_error = error[:2000]
        row.next_attempt_at = at + backoff(row.attempts)
        if row.attempts >= MAX_ATTEMPTS:
            if row.status != "failed":
                log.error("notice delivery %s has failed %d times (still retrying hourly): %s",
                          delivery_id, row.attempts, error)
            row.status = "failed"
