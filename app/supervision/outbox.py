"""The notice outbox: every notice is delivered to every recipient on every channel, with retries.

The in-app inbox is the database itself (a notice's recipients), so it is delivered when the notice commits. Other channels
(SMTP, configured by environment: Settings.notice_channels) get a pending row in the same transaction as
the notice, and the timer worker sends them afterwards (deliver_due), so a notice never waits for a mail
server and a mail is never lost: a row only ever leaves "pending" by being sent.

Delivery is at-least-once, with a lease per claimed row and backoff between retries: the discipline is
app/delivery.py's, shared with the applicant's SMS (app/messages/). This module says what a notice
delivery's message is (a `channels.Mail`) and how each channel sends it.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock, delivery
from app.delivery import LEASE, MAX_ATTEMPTS, RETRYING, backoff  # noqa: F401  (this outbox's retry policy)
from app.cases.models import Case
from app.orgs.models import User

from . import channels as channel_senders
from .models import NoticeDelivery, SupervisionNotice


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


def deliver_due(db, settings, now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Send what is due on the active channels; returns (sent, failed) for this round (see app/delivery.py)."""
    live = [c for c in settings.notice_channels if c in channel_senders.SENDERS]
    if not live:
        return 0, 0

    def send(channel: str, mail: channel_senders.Mail | None) -> None:
        if mail is None:
            raise channel_senders.RecipientError("the user has no email address")
        channel_senders.SENDERS[channel](mail, settings)

    box = delivery.Outbox(name="notice delivery", model=NoticeDelivery, read=_read, send=send)
    return delivery.deliver_due(db, box, live, now, limit)


def _read(s: Session, row: NoticeDelivery) -> channel_senders.Mail | None:
    """What a claimed row's mail needs, read while it is claimed, so the send itself needs no session."""
    notice = s.get(SupervisionNotice, row.notice_id)
    email = s.scalar(select(User.email).where(User.id == row.user_id))
    case_no = s.scalar(select(Case.case_no).where(Case.id == notice.case_id)) if notice.case_id else None
    return channel_senders.Mail(to=email, level=notice.level, reason=notice.reason, case_no=case_no,
                                created_at=notice.created_at, notice_id=notice.id,
                                delivery_id=row.id) if email else None
