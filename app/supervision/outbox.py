"""The notice outbox: every notice is delivered to every recipient on every channel, with retries.

The in-app inbox is the database itself, so its delivery is done when the notice commits. Other channels
(SMTP, configured by environment) are sent by the timer worker after the commit and retried with backoff
until they succeed: a message is never lost, and a notice never waits for a mail server.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from app import clock

from .models import NoticeDelivery

EXTRA_CHANNELS: list[str] = []  # filled by channel modules that are configured (e.g. "smtp")


def enqueue(session: Session, notice, recipients) -> None:
    now = clock.now()
    for user in {u.id: u for u in recipients}.values():
        session.add(NoticeDelivery(notice_id=notice.id, user_id=user.id, channel="inbox", status="sent",
                                   attempts=1, sent_at=now))
        for channel in EXTRA_CHANNELS:
            if channel == "smtp" and not user.email:
                continue
            session.add(NoticeDelivery(notice_id=notice.id, user_id=user.id, channel=channel, status="pending",
                                       next_attempt_at=now))
