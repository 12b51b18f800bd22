"""What every page needs: the signed-in user, the language, CSRF, error pages and formatting."""
from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from flask import (Flask, current_app, flash, g, redirect, render_template, request, session, url_for)
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import Markup, escape
from sqlalchemy.exc import DataError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app import clock
from app.api.limits import store_unreachable
from app.db import Database
from app.errors import DomainError, Forbidden, NotFound
from app.orgs.models import User
from app.settings import Settings

from . import csrf, marks, web
from .i18n import LANGS, _, label, message, problem_text, translate_error

log = logging.getLogger("sunlight.web")
HOME = {"clerk": "web.worklist", "designer": "web.design_home", "legal": "web.review_queue",
        "supervisor": "web.supervision_board", "admin": "web.supervision_board", "evaluator": "web.evaluate_page"}


class LoginRequired(Exception):
    """No signed-in user: the page sends the visitor to /login and back."""


def db() -> Database:
    return current_app.extensions["sunlight.db"]


def settings() -> Settings:
    return current_app.extensions["sunlight.settings"]


def signed_in(s, *roles: str) -> User:
    """The session's user, freshly loaded in this unit of work (role and org unit as stored now).

    No session → LoginRequired (redirect to /login); a role not among `roles` → 403, like the API.
    """
    uid = session.get("uid")
    user = s.get(User, uid) if isinstance(uid, int) else None
    if user is None or not _session_alive(user):
        session.pop("uid", None)
        raise LoginRequired()
    g.viewer = _shown(user)  # the header needs no second look at the same user
    g.viewer_scope = (user.id, user.role, user.org_unit_id, user.org_unit.path)  # nor do its counts
    if roles and user.role not in roles:
        raise Forbidden(f"this page needs the role {' or '.join(roles)}")
    return user


def _session_alive(user: User) -> bool:
    """Begun in the user's current epoch (not signed out since, anywhere) and within SESSION_HOURS."""
    since = session.get("since")
    hours = current_app.config.get("SESSION_HOURS", 12)
    return session.get("epoch") == (user.session_epoch or 0) and isinstance(since, int) and \
        0 <= clock.now().timestamp() - since <= hours * 3600


def sign_in(user: User) -> None:
    lang = session.get("lang")
    session.clear()  # no fixation: a fresh session (and CSRF token) for the signed-in user
    session.update(uid=user.id, uname=user.username, role=user.role, org=user.org_unit.name,
                   epoch=user.session_epoch or 0, since=int(clock.now().timestamp()))
    if lang:
        session["lang"] = lang
    session.permanent = False


def home_for(role: str | None) -> str:
    return url_for(HOME[role]) if role in HOME else url_for("web.hall")


def safe_next(target: str | None) -> str | None:
    """Only a local path: never an open redirect to another site."""
    if not target:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7f for ch in target):
        return None  # browsers drop tabs and newlines: "/\t/evil.example" would become "//evil.example"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(settings().tz).strftime(fmt)


def lang_url(lang: str) -> str:
    args = request.args.to_dict()
    args["lang"] = lang
    return f"{request.path}?{urlencode(args)}"


def flash_error(exc: DomainError) -> None:
    flash(translate_error(exc), "error")


# Pages load scripts and styles from this site only and run no inline script; nothing may frame them.
# (style-src allows inline styles: bpmn-js and ECharts size their canvases with style attributes.)
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"  # JSON, XML, files: nothing in them runs


def install(app: Flask) -> None:
    """What the app itself needs for the pages (the blueprint's own hooks are set once, below)."""
    app.jinja_env.globals.update(_=_, lang_url=lang_url, label=label, message=message, problem_text=problem_text,
                                 **marks.GLOBALS)
    app.jinja_env.filters["local"] = local_time
    app.after_request(security_headers)
    app.extensions["sunlight.browser_error"] = browser_error


JSON_DOORS = ("/api/", "/public/api/")


def browser_error(status: int):
    """An error outside the pages (a mistyped address, a wrong method) as a page when a browser asks for one;
    None for the JSON doors and for clients that want JSON (they get the API's error body)."""
    if request.path.startswith(JSON_DOORS) or \
            request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html":
        return None
    _before_lang()
    message = {404: _("找不到该页面或内容。"), 405: _("不支持该请求方式。")}.get(status, _("请求无法处理。"))
    return render_template("web/error.html", status=status, message=message, header_counts=lambda: None,
                           **_context()), status


def security_headers(response):
    """On every answer, pages and API alike (an answer that set its own CSP, like a file download, keeps it)."""
    html = response.mimetype == "text/html"
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP if html else DATA_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _before_lang() -> None:
    lang = request.args.get("lang")
    if lang in LANGS:
        session["lang"] = lang
    g.lang = session.get("lang") if session.get("lang") in LANGS else "zh"


@web.before_request
def _before():
    _before_lang()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # 400 without a valid token, on every form and fetch of these pages

@web.app_template_global()
def csrf_field():
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">')

def viewer() -> dict:
    """Who the header shows, once per request: the session's user only while the session is alive, checked as
    `signed_in` checks it (not signed out since, anywhere, and within SESSION_HOURS), with the name, role and unit
    as stored now; {} otherwise, so an ended session's cookie shows the public header. A database failure here
    shows the public header too: the header never breaks the page it sits on."""
    if "viewer" not in g:
        g.viewer = {}
        uid = session.get("uid")
        if isinstance(uid, int):
            try:
                with db().unit_of_work() as s:
                    user = s.get(User, uid)
                    if user is not None and _session_alive(user):
                        g.viewer = _shown(user)
                    else:
                        session.pop("uid", None)
            except SQLAlchemyError as exc:
                log.warning("the header's user unavailable: %s", exc)
    return g.viewer


def _shown(user: User) -> dict:
    return {"uid": user.id, "uname": user.username, "role": user.role, "org": user.org_unit.name}


@web.context_processor
def _context():
    return {"lang": g.get("lang", "zh"), "viewer": viewer(),
            "html_lang": "en" if g.get("lang") == "en" else "zh-CN", "sep": ", " if g.get("lang") == "en" else "、"}

@web.errorhandler(LoginRequired)
def _login(_exc):
    if request.method == "GET":
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("web.login"))

@web.errorhandler(CSRFError)
def _csrf(exc):
    return _error_page(400, _("表单已过期或缺少安全令牌，请返回刷新后重试。"))

@web.errorhandler(RateLimitExceeded)
def _limited(exc):
    return _error_page(429, _("尝试次数过多，请稍后再试。"))

@web.errorhandler(DomainError)
def _domain(exc: DomainError):
    if isinstance(exc, NotFound):
        return _error_page(404, _("找不到该页面或内容。"))
    return _error_page(exc.status, translate_error(exc))

@web.errorhandler(HTTPException)
def _http(exc: HTTPException):
    status = exc.code or 500
    if status == 404:
        return _error_page(404, _("找不到该页面或内容。"))
    if status == 405:
        return _error_page(405, _("不支持该请求方式。"))
    if status == 413:
        return _error_page(413, _("提交的内容太大。"))
    return _error_page(status, _("请求无法处理。"))

@web.errorhandler(DataError)
def _too_long(exc):  # a value the database refused (too long, out of range): the form's problem, not a crash
    return _error_page(422, _("提交的内容不符合要求，请检查后重试。"))

@web.errorhandler(OperationalError)
def _busy(exc):
    log.warning("database busy: %s", exc)
    return _error_page(503, _("系统繁忙，请稍后重试。"))


@web.errorhandler(Exception)
def _unexpected(exc: Exception):
    if store_unreachable(exc):  # the rate limiter's store is down: fail safe, "come back later"
        log.warning("rate-limit store unreachable: %s", exc)
        return _error_page(503, _("系统繁忙，请稍后重试。"))
    log.exception("unexpected error on a page")
    return _error_page(500, _("发生了意外错误，已记录。"))


def _error_page(status: int, message: str):
    return render_template("web/error.html", status=status, message=message), status
