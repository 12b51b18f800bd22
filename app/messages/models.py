"""The applicant's messages: one row per thing told, with its SMS delivery state (an outbox row)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

MESSAGE_STATUSES = ("pending", "sent", "failed", "unsent")  # unsent: no gateway or no phone; never delivered


class ApplicantMessage(Base):
    """What the applicant was told about a case (受理、补正告知、延期、决定…), in their words and in English."""

    __tablename__ = "applicant_messages"
    # The delivery query filters on status and next_attempt_at, like the staff notices' outbox.
    __table_args__ = (Index("ix_applicant_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # accepted | supplement | extended | decided … (app/messages/texts.py)
    text: Mapped[str] = mapped_column(Text)  # Simplified Chinese, what the applicant reads (public; never the secret)
    text_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    # Where the SMS goes, as given when it was told (the case's applicant phone); never public.
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # see MESSAGE_STATUSES
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()
    # Merged into the SMS only (the query code at acceptance) and wiped as soon as the SMS is sent.
    secret: Mapped[str | None] = mapped_column(String(64))
