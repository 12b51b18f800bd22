"""The SMS channel: an HTTP gateway (POST of a JSON body), fed by the applicant messages' outbox.

The gateway is configured by environment (Settings.sms: SMS_GATEWAY_URL, SMS_GATEWAY_TOKEN, SMS_TEMPLATE,
SMS_SIGNATURE, SMS_TIMEOUT). Each message goes with `Idempotency-Key: sunlight-msg-<id>`, so a gateway can
drop the second copy that at-least-once delivery sends after a crash. How the gateway answers decides
what happens next (app/delivery.py):
  2xx                      sent
  4xx but 408 and 429      this message's problem: recorded, backed off, the round goes on with the others
  5xx, 408, 429, 3xx,      the gateway is down (or misconfigured): it is not used again this round, and
  timeouts, no connection  the message is retried with backoff
Redirects are not followed: a 302 would turn the POST into a GET and carry the bearer token elsewhere.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app import delivery
from app.settings import Settings, SmsSettings

from .models import ApplicantMessage
from .texts import SECRET_MASK

CHANNEL = "sms"
MAX_ANSWER = 300  # characters of a refusing gateway's answer kept in last_error
READ_ANSWER = 64 * 1024  # bytes read of it: all of an echo, so the secret is masked before the answer is cut
_PLACEHOLDER = re.compile(r"\{(phone|text|id)\}")


class GatewayDown(Exception):
    """The gateway answered, but not as a working gateway does (5xx, 408, 429, a redirect)."""


@dataclass(frozen=True)
class Sms:
    """One claimed message, read while it was claimed so that sending needs no session."""

    message_id: int
    phone: str | None
    text: str  # the stored text: the secret is still masked here
    secret: str | None


def sms_text(cfg: SmsSettings, sms: Sms) -> str:
    """What the phone shows: the signature (短信签名), then the text with the secret merged in."""
    text = sms.text.replace(SECRET_MASK, sms.secret) if sms.secret else sms.text
    return cfg.signature + text


def body(template: str, *, phone: str, text: str, message_id: int) -> bytes:
    """The template's JSON with the values filled into its strings, then serialised again.

    Filling the parsed template (never formatting the JSON text) keeps the body valid whatever a text holds:
    quotes, backslashes, line breaks and braces are escaped by the serialiser, and one pass never fills a
    placeholder that a value itself contains.
    """
    values = {"phone": phone, "text": text, "id": str(message_id)}

    def fill(node):
        if isinstance(node, str):
            return _PLACEHOLDER.sub(lambda m: values[m.group(1)], node)
        if isinstance(node, list):
            return [fill(v) for v in node]
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        return node

    return json.dumps(fill(json.loads(template)), ensure_ascii=False).encode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx then surfaces as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirect)


def send(cfg: SmsSettings, sms: Sms) -> None:
    """POST one message; returns when the gateway took it (2xx), raises otherwise (see the module doc)."""
    if not sms.phone:
        raise delivery.RecipientError("the message has no phone number")
    headers = {"Content-Type": "application/json; charset=utf-8",
               "Idempotency-Key": f"sunlight-msg-{sms.message_id}"}
    if cfg.token:
        headers["Authorization"] = f"Bearer {cfg.token}"
    data = body(cfg.template, phone=sms.phone, text=sms_text(cfg, sms), message_id=sms.message_id)
    request = urllib.request.Request(cfg.url, data=data, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=cfg.timeout) as response:
            response.read(READ_ANSWER)  # taken: what it says beyond the status is not needed
    except urllib.error.HTTPError as exc:
        problem = f"HTTP {exc.code} {_answer(exc, sms.secret)}".strip()
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise delivery.RecipientError(f"the gateway refused this message: {problem}") from None
        raise GatewayDown(problem) from None


def _answer(exc: urllib.error.HTTPError, secret: str | None) -> str:
    """The start of the gateway's answer, for operators; a gateway that echoes the SMS back must not leave
    the query code in last_error."""
    try:
        answer = exc.read(READ_ANSWER).decode("utf-8", "replace")
        exc.close()
    except Exception:  # noqa: BLE001 — no readable answer: the status code alone says enough
        answer = ""
    if secret:
        answer = answer.replace(secret, SECRET_MASK)
    return " ".join(answer.split())[:MAX_ANSWER]


def deliver_due(db, settings: Settings, now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Send the applicant messages that are due; returns (sent, failed) for this round."""
    if settings.sms is None:
        return 0, 0  # pending rows wait: they go once a gateway is configured
    box = delivery.Outbox(name="applicant message", model=ApplicantMessage, read=_read,
                          send=lambda channel, sms: send(settings.sms, sms), on_sent=_forget_secret)
    return delivery.deliver_due(db, box, [CHANNEL], now, limit)


def _read(s: Session, row: ApplicantMessage) -> Sms:
    return Sms(message_id=row.id, phone=row.phone, text=row.text, secret=row.secret)


def _forget_secret(row: ApplicantMessage) -> None:
    row.secret = None  # the query code lived here only to be sent
