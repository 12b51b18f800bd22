"""Telling the applicant (告知): the case actions call `tell` inside their own transaction.

A message is recorded with the action that caused it, so the applicant is told exactly what happened: a
rolled-back action tells nothing, and a committed one is delivered by the outbox (app/messages/sms.py)
however long the gateway is down. Nothing about telling may undo the clerk's action: a missing or odd
phone number, or no gateway at all, leaves the message "unsent" — still recorded and shown on the
public progress page — rather than raising.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.settings import Settings

from . import texts
from .models import ApplicantMessage

PUBLIC_LIMIT = 50  # the progress answer shows at most the latest 50
MAX_PHONE = 32
_PHONE = re.compile(r"[0-9+\- ]+")


def tell(session: Session, settings: Settings, *, case_id: int, case_no: str, phone: str | None, kind: str,
         params: dict, secret: str | None = None) -> ApplicantMessage:
    """Record a message of `kind` to the applicant of a case, and its `applicant_notified` audit event.

    `params` are the kind's (app/messages/texts.py KINDS); `secret` (the query code at acceptance) goes into
    the SMS only and is wiped once it is sent. An unknown kind or parameter raises ValueError (a bug).
    """
    if secret is not None and (not isinstance(secret, str) or not 0 < len(secret) <= 64):
        raise ValueError("secret must be a short text")
    zh, en = texts.compose(kind, case_no, params, settings.tz, with_secret=secret is not None)
    number, unsent_because = _destination(settings, phone)
    now = clock.now()
    message = ApplicantMessage(
        case_id=case_id, kind=kind, text=zh, text_en=en, created_at=now, channel="sms", phone=number,
        status="unsent" if unsent_because else "pending", attempts=0,
        next_attempt_at=None if unsent_because else now, last_error=unsent_because,
        secret=None if unsent_because else secret)  # a secret that will never be sent is not kept
    session.add(message)
    audit.record(session, audit.case_stream(case_id), "applicant_notified", "system", case_id=case_id,
                 detail={"kind": kind, "text": zh, "status": message.status})  # never the phone or the secret
    return message


def _destination(settings: Settings, phone) -> tuple[str | None, str | None]:
    """(the number to text, None) or (None, why the message stays unsent)."""
    if settings.sms is None:
        return None, "no SMS gateway is configured (SMS_GATEWAY_URL)"
    number = phone.strip() if isinstance(phone, str) else ""
    if not number:
        return None, "the applicant gave no phone number"
    if len(number) > MAX_PHONE or not _PHONE.fullmatch(number) or not any(c.isdigit() for c in number):
        return None, f"the phone number is not one (only digits, +, - and spaces, at most {MAX_PHONE})"
    return number, None


def told(session: Session, case_id: int, limit: int = PUBLIC_LIMIT) -> list[ApplicantMessage]:
    """The latest `limit` messages of a case, oldest first (what the progress page shows)."""
    query = (select(ApplicantMessage).where(ApplicantMessage.case_id == case_id)
             .order_by(ApplicantMessage.id.desc()).limit(limit))
    return list(reversed(session.scalars(query).all()))


def listing(session: Session, case_id: int | None = None, status: str | None = None,
            limit: int = 100) -> list[ApplicantMessage]:
    """For operators: the latest `limit` messages, of one case and/or one status, oldest first."""
    query = select(ApplicantMessage).order_by(ApplicantMessage.id.desc()).limit(limit)
    if case_id is not None:
        query = query.where(ApplicantMessage.case_id == case_id)
    if status:
        query = query.where(ApplicantMessage.status == status)
    return list(reversed(session.scalars(query).all()))
