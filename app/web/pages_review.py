"""The legal office (法制办): the review queue, and a review page with the diagram and the changes."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.api import render
from app.cases import decisions
from app.definitions import service as definitions
from app.errors import DomainError, NotFound
from app.orgs.models import User
from app.orgs.service import can_see

from . import web
from .common import db, flash_error, settings, signed_in
from .i18n import _
from .review_words import describe


@web.get("/review")
def review_queue():
    """Two tabs: definitions (the flows) and decisions (重大执法决定 waiting for 法制审核)."""
    tab = "decisions" if request.args.get("tab") == "decisions" else "definitions"
    with db().unit_of_work() as s:
        user = signed_in(s, "legal")
        queue = []
        for d in definitions.in_review(s):
            if can_see(user, d.item.org_unit):
                queue.append({**render.definition(d), "item_name": d.item.name,
                              "department": d.item.org_unit.name,
                              "uploaded_by": s.get(User, d.uploaded_by_id).username})
        pending = [{**render.decision(s, row), "case_no": case.case_no, "item_name": case.item.name,
                    "department": case.item.org_unit.name}
                   for row, case in decisions.pending_reviews(s, user)]
    return render_template("web/review_queue.html", queue=queue, pending=pending, tab=tab)


@web.post("/review/decisions/<case_no>")
def review_decision(case_no: str):
    body = {"decision": request.form.get("decision"), "opinion": request.form.get("opinion", "")}
    try:
        with db().unit_of_work() as s:
            row = decisions.review(s, settings(), signed_in(s, "legal"), case_no, body)
            status = row.status
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("web.review_queue", tab="decisions"))
    flash(_("法制审核通过，经办人可据此作出决定。") if status == "approved" else _("已退回，经办人将看到退回理由。"),
          "success")
    return redirect(url_for("web.review_queue", tab="decisions"))


def _definition_in_scope(s, user, definition_id: int):
    d = definitions.get(s, definition_id)
    if not can_see(user, d.item.org_unit):
        raise NotFound(f"no definition {definition_id}")
    return d


@web.get("/review/<int:definition_id>")
def review_page(definition_id: int):
    with db().unit_of_work() as s:
        user = signed_in(s, "legal")
        d = _definition_in_scope(s, user, definition_id)
        view = {**render.definition(d), "item_name": d.item.name, "department": d.item.org_unit.name,
                "uploaded_by": s.get(User, d.uploaded_by_id).username}
        published = definitions.published_for(s, d.item_id)
        against = published if published is not None and published.id != d.id else None
        changes = definitions.diff_against(s, d.id, against.id) if against is not None else None
        against_view = render.definition(against) if against is not None else None
    changed_ids = sorted({c["element_id"] for c in changes or [] if c.get("change") != "removed" and c.get("element_id")})
    rows = None if changes is None else [describe(c) for c in changes]
    return render_template("web/review.html", d=view, changes=rows, against=against_view, changed_ids=changed_ids)


@web.post("/review/<int:definition_id>")
def review_decide(definition_id: int):
    decision = request.form.get("decision")
    comment = (request.form.get("comment") or "").strip()
    with db().unit_of_work() as s:
        _definition_in_scope(s, signed_in(s, "legal"), definition_id)
    try:
        with db().unit_of_work() as s:
            d = definitions.review(s, signed_in(s, "legal"), definition_id, decision, comment)
            status = d.status
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("web.review_page", definition_id=definition_id))
    flash(_("已批准并发布。") if status == "published" else _("已退回修改。"), "success")
    return redirect(url_for("web.review_queue"))
