"""The public online hall (no login): catalogue, item pages, the progress query; and sign-in / sign-out."""
from __future__ import annotations

import secrets

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from app.api import render
from app.api.limits import limiter, public_lookup
from app.cases import ratings
from app.cases import service as cases
from app.catalog import service as catalog
from app.catalog.models import CATEGORIES
from app.errors import NotFound
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User

from . import web
from .common import db, home_for, safe_next, settings, sign_in
from .i18n import _

PER_PAGE = 20


def _page_arg() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100000))
    except ValueError:
        return 1


@web.get("/")
def hall():
    q = (request.args.get("q") or "").strip()[:100]
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else ""
    department = (request.args.get("department") or "").strip()[:32]
    page = _page_arg()
    with db().unit_of_work() as s:
        rows, total = catalog.public_items(s, q or None, category or None, department or None, page, PER_PAGE)
        items = [render.public_item(i) for i in rows]
        departments = list(s.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind != "district")
                                     .order_by(OrgUnit.code)))
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    return render_template("web/hall.html", items=items, total=total, q=q, category=category,
                           department=department, departments=departments, categories=CATEGORIES,
                           page=min(page, pages), pages=pages)


@web.get("/items/<code>")
def item_page(code: str):
    with db().unit_of_work() as s:
        item = render.public_item(catalog.public_item_by_code(s, code))
    return render_template("web/item.html", item=item)


@web.get("/favicon.ico")
def favicon():
    """Browsers and crawlers ask for it on every site: the sun, not a 404 in every log."""
    return redirect(url_for("web.static", filename="favicon.svg"), code=301)


@web.route("/progress", methods=["GET", "POST"])
@public_lookup(methods=["POST"])
def progress():
    result, not_found, rated_now = None, False, False
    case_no = code = ""
    if request.method == "POST":
        case_no = (request.form.get("case_no") or "").strip()[:32]
        code = (request.form.get("code") or "").strip()[:32]
        try:
            with db().unit_of_work() as s:
                if request.form.get("score"):  # 好差评, sent from the result of a query
                    ratings.rate(s, settings(), case_no, code, _score(request.form["score"]),
                                 (request.form.get("comment") or "")[:500])
                    rated_now = True
                case = cases.public_progress(s, settings(), case_no, code)
                result = render.public_case(s, settings(), case)
                rating = ratings.rating_of(s, case)
                result["rating"] = rating.score if rating else None
        except NotFound:  # an unknown number and a wrong code look exactly the same
            not_found = True
    return render_template("web/progress.html", result=result, not_found=not_found, case_no=case_no,
                           code=code if result else "", rated_now=rated_now, levels=ratings.LEVELS)


def _score(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


_DECOY: list[User] = []


def _decoy() -> User:
    if not _DECOY:
        from argon2 import PasswordHasher
        _DECOY.append(User(username="", password_hash=PasswordHasher().hash(secrets.token_urlsafe(16))))
    return _DECOY[0]


def _login_rate() -> str:
    return current_app.config["LOGIN_RATE"]


LOGIN_PER_ADDRESS = "300/hour"  # a ceiling per address over all usernames: no spraying passwords across an office


def _address_and_user() -> str:
    """Sign-in attempts count per address AND username: a whole office behind one address does not share one
    budget, while guessing one user's password from one address stays limited."""
    return f"{get_remote_address()}|{(request.form.get('username') or '').strip()[:64]}"


@web.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate, methods=["POST"], key_func=_address_and_user)
@limiter.limit(LOGIN_PER_ADDRESS, methods=["POST"])
def login():
    nxt = safe_next(request.values.get("next"))
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:64]
        password = request.form.get("password") or ""
        with db().unit_of_work() as s:
            user = s.scalar(select(User).where(User.username == username)) if username else None
            # An unknown user costs the same argon2 check as a known one: no telling usernames by timing.
            ok = orgs.check_password(user if user is not None and user.password_hash else _decoy(), password[:1000]) \
                and user is not None
            if ok:
                sign_in(user)
                role = user.role
        if ok:
            return redirect(nxt or home_for(role))
        flash(_("用户名或密码不正确。"), "error")
        return render_template("web/login.html", next=nxt, username=username), 401
    return render_template("web/login.html", next=nxt, username="")


@web.post("/logout")
def logout():
    uid = session.get("uid")
    if isinstance(uid, int):  # ended on the server too: the cookie (or a copy of it) signs nobody in again
        with db().unit_of_work() as s:
            user = s.get(User, uid)
            if user is not None and session.get("epoch") == (user.session_epoch or 0):
                orgs.end_sessions(user)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("web.hall"))
