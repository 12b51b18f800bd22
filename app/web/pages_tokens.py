"""API 令牌: a staff member's own API tokens — issue one (shown once), see when each expires, revoke one."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from app import clock
from app.errors import DomainError, Invalid
from app.orgs import service as orgs

from . import web
from .common import db, flash_error, signed_in
from .i18n import _


@web.get("/tokens")
def tokens_page():
    return _page()


@web.post("/tokens")
def issue_token():
    raw = (request.form.get("days") or "").strip()
    try:
        days = current_app.config["API_TOKEN_DAYS"] if not raw else _whole(raw)
        with db().unit_of_work() as s:
            user = signed_in(s)
            token = orgs.issue_token(s, user, user.username, days=days)
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("web.tokens_page"))
    # Shown in this answer only — never in a flash message, which would keep it in the session cookie.
    return _page(new_token=token)


@web.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    try:
        with db().unit_of_work() as s:
            user = signed_in(s)
            orgs.revoke_token(s, user, token_id, user.username)
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("令牌已撤销，使用它的程序将无法再访问。"), "success")
    return redirect(url_for("web.tokens_page"))


def _whole(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 5:
        raise Invalid("days must be a whole number", details=[{"field": "days"}])
    return int(raw)


def _page(new_token: str | None = None):
    with db().unit_of_work() as s:
        user = signed_in(s)
        now = clock.now()
        rows = [{"id": t.id, "created_at": t.created_at, "expires_at": t.expires_at, "revoked_at": t.revoked_at,
                 "live": t.revoked_at is None and (t.expires_at is None or t.expires_at > now)}
                for t in orgs.tokens_of(s, user)]
    return render_template("web/tokens.html", rows=rows, new_token=new_token,
                           default_days=current_app.config["API_TOKEN_DAYS"])
