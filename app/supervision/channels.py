"""Outbox channels beyond the in-app inbox: how one notice reaches one person outside Sunlight.

A channel gets a plain `Mail` (built while the delivery row was claimed, so sending needs no database
session) and either returns or raises. Raising `RecipientError` means "this address, not the channel":
the outbox then goes on with other deliveries; any other exception means the channel itself is down,
and the outbox stops using it for the rest of the round instead of waiting on a dead server per message.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from app.delivery import RecipientError  # noqa: F401  (raised here; the outbox tells it from a channel failure)
from app.settings import Settings, SmtpSettings

LEVELS = {"warning": ("预警", "pre-warning"), "yellow": ("黄牌", "yellow card"), "red": ("红牌", "red card")}


@dataclass(frozen=True)
class Mail:
    to: str
    level: str
    reason: str
    case_no: str | None  # None: a district-wide notice with no case
    created_at: datetime
    notice_id: int
    delivery_id: int


def compose(mail: Mail, settings: Settings) -> EmailMessage:
    """A UTF-8 message: Simplified Chinese first, the same in English underneath."""
    zh, en = LEVELS.get(mail.level, (mail.level, mail.level))
    when = mail.created_at.astimezone(settings.tz)
    stamp = when.strftime("%Y-%m-%d %H:%M")
    case_zh = mail.case_no or "（无，全区通知）"
    case_en = mail.case_no or "(none, district-wide)"
    link = f"/cases/{mail.case_no}" if mail.case_no else "/notices"
    msg = EmailMessage()
    msg["Subject"] = f"【电子监察·{zh}】{case_zh} {mail.reason} / Supervision notice ({en}): case {case_en}"
    msg["From"] = settings.smtp.sender if settings.smtp else "sunlight@localhost"
    msg["To"] = mail.to
    msg["Date"] = format_datetime(when)
    # One stable id per delivery: a resend after a crash is recognisable (and droppable) as the same message.
    domain = (settings.smtp.sender.rpartition("@")[2] if settings.smtp else "") or "sunlight.local"
    msg["Message-ID"] = f"<sunlight-notice-{mail.notice_id}-{mail.delivery_id}@{domain}>"
    msg.set_content(
        "电子监察通知\n"
        f"等级：{zh}\n"
        f"事由：{mail.reason}\n"
        f"办件编号：{case_zh}\n"
        f"发出时间：{stamp}\n"
        f"查看：{link}\n"
        "请及时办理并在系统中确认收到。\n"
        "\n"
        "---\n"
        "Supervision notice\n"
        f"Level: {en}\n"
        f"Reason: {mail.reason}\n"
        f"Case number: {case_en}\n"
        f"Raised at: {stamp} ({settings.tz.key})\n"
        f"View: {link}\n"
        "Please act on it and acknowledge it in Sunlight.\n",
        charset="utf-8")
    return msg


def send_smtp(mail: Mail, settings: Settings) -> None:
    """Send one message with the standard library; one connection per message keeps failures independent."""
    cfg: SmtpSettings = settings.smtp
    msg = compose(mail, settings)
    with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
        if cfg.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if cfg.user:
            smtp.login(cfg.user, cfg.password)
        try:
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise RecipientError(f"recipient refused: {exc.recipients}") from exc


SENDERS = {"smtp": send_smtp}  # channel name -> sender(mail, settings); the outbox looks them up here
