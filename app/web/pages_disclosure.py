"""Public pages of 双公示 and 文书核验: the decisions made public, and the check of a document against the record."""
from __future__ import annotations

from flask import current_app, render_template, request
from sqlalchemy import select

from app.api import render
from app.api.limits import limiter
from app.catalog.models import CATEGORIES
from app.disclosure import service as disclosure
from app.documents import service as documents
from app.errors import NotFound
from app.orgs.models import OrgUnit

from . import web
from .common import db, settings
from .pages_public import PER_PAGE, _page_arg


@web.get("/decisions")
def public_decisions():
    q = (request.args.get("q") or "").strip()[:100]
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else ""
    department = (request.args.get("department") or "").strip()[:32]
    page = _page_arg()
    with db().unit_of_work() as s:
        rows, total, exact = disclosure.public_list(s, category=category or None, department=department or None,
                                             q=q or None, page=page, per_page=PER_PAGE)
        found = [render.public_decision(r) for r in rows]
        departments = list(s.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind != "district")
                                     .order_by(OrgUnit.code)))
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    return render_template("web/decisions.html", decisions=found, total=total, exact=exact, q=q, category=category,
                           department=department, departments=departments,
                           categories=disclosure.DISCLOSED_CATEGORIES, page=min(page, pages), pages=pages)


def _query_rate() -> str:
    return current_app.config["PUBLIC_QUERY_RATE"]


@web.route("/verify", methods=["GET", "POST"])
@limiter.limit(_query_rate, methods=["POST"])
def verify_document():
    result, not_found = None, False
    number = (request.values.get("number") or "").strip()[:100]
    if request.method == "POST":
        try:
            with db().unit_of_work() as s:
                doc = documents.verify(s, number, request.form.get("code"))
                result = render.verified_document(s, documents.rendered(s, settings(), doc))
        except NotFound:  # an unknown number and a wrong code look exactly the same
            not_found = True
    return render_template("web/verify.html", result=result, not_found=not_found, number=number)
