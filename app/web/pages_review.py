"""The legal office (法制办): the review queue, and a review page with the diagram and the changes."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.api import render
from app.definitions import service as definitions
from app.errors import DomainError, NotFound
from app.orgs.models import User
from app.orgs.service import can_see

from . import web
from .common import db, flash_error, signed_in
from .i18n import _


@web.get("/review")
def review_queue():
    with db().unit_of_work() as s:
        user = signed_in(s, "legal")
        queue = []
        for d in definitions.in_review(s):
            if can_see(user, d.item.org_unit):
                queue.append({**render.definition(d), "item_name": d.item.name,
                              "department": d.item.org_unit.name,
                              "uploaded_by": s.get(User, d.uploaded_by_id).username})
    return render_template("web/review_queue.html", queue=queue)


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
    return render_template("web/review.html", d=view, changes=changes, against=against_view, changed_ids=changed_ids)


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
