"""Designers: their items, and the bpmn.io modeler to draw a flow, save it as a draft version and submit it."""
from __future__ import annotations

from pathlib import Path

from flask import Response, flash, jsonify, redirect, render_template, request, url_for

from app import engine
from app.api import render
from app.catalog import service as catalog
from app.definitions import service as definitions
from app.errors import DomainError, NotFound, TooLarge
from app.orgs.service import can_see

from . import web
from .common import db, flash_error, settings, signed_in
from .i18n import _, problem_text, translate_error

TEMPLATES = Path(__file__).resolve().parents[2] / "bpmn"
PER_PAGE = 30


def _templates() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.bpmn"))


def _item_in_scope(s, user, code: str):
    item = catalog.item_by_code(s, code)
    if not can_see(user, item.org_unit):
        raise NotFound(f"no item {code}")
    return item


@web.get("/design")
def design_home():
    q = (request.args.get("q") or "").strip()[:100]
    try:
        page = max(1, min(int(request.args.get("page", 1)), 100000))  # beyond: an offset no integer column holds
    except ValueError:
        page = 1
    with db().unit_of_work() as s:
        user = signed_in(s, "designer")
        rows, total = catalog.items_in_scope(s, user, q or None, page, PER_PAGE)
        items = []
        for it in rows:
            versions = definitions.versions_of(s, it.id)
            items.append({"code": it.code, "name": it.name, "status": it.status, "department": it.org_unit.name,
                          "latest": versions[0] if versions else None,
                          "published": next((v.version for v in versions if v.status == "published"), None)})
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    return render_template("web/design_home.html", items=items, q=q, page=page, pages=pages, total=total)


@web.get("/design/<code>")
def modeler(code: str):
    with db().unit_of_work() as s:
        user = signed_in(s, "designer")
        item = _item_in_scope(s, user, code)
        versions = [render.definition(v) for v in definitions.versions_of(s, item.id)]
        item_view = {"code": item.code, "name": item.name, "status": item.status}
    chosen = request.args.get("definition", type=int)
    template = request.args.get("template") if request.args.get("template") in _templates() else None
    if template:
        source = url_for("web.template_xml", name=template)
    elif chosen and any(v["id"] == chosen for v in versions):
        source = url_for("web.definition_xml", definition_id=chosen)
    elif versions:
        chosen = versions[0]["id"]
        source = url_for("web.definition_xml", definition_id=chosen)
    else:
        template = "licensing_demo"
        source = url_for("web.template_xml", name=template)
    return render_template("web/modeler.html", item=item_view, versions=versions, source=source, chosen=chosen,
                           template=template, templates=_templates())


@web.get("/design/templates/<name>.bpmn")
def template_xml(name: str):
    with db().unit_of_work() as s:
        signed_in(s, "designer")
    if name not in _templates():
        raise NotFound(f"no template {name}")
    return Response((TEMPLATES / f"{name}.bpmn").read_bytes(), mimetype="application/xml")


@web.post("/design/<code>/definitions")
def save_draft(code: str):
    """The modeler's save: the XML as the body (with the CSRF token in X-CSRFToken); JSON back for the page."""
    xml = request.get_data(cache=False)
    return _saved(code, lambda s, user: (xml, []))


def _saved(code: str, parts) -> tuple[Response, int]:
    """A new draft version through the upload service (the API's path, one validation): `parts(s, user)` gives
    the BPMN and the DMN files; JSON back for the page, 422 with the problems in the page's language."""
    try:
        with db().unit_of_work() as s:
            user = signed_in(s, "designer")
            _item_in_scope(s, user, code)
            xml, decisions = parts(s, user)
            d = definitions.upload(s, user, code, xml, limit=settings().max_bpmn_bytes, tz=settings().tz,
                                   decisions=decisions, limits=engine.limits_of(settings()))
            out = render.definition(d)
    except TooLarge as exc:
        return jsonify({"error": {"code": exc.code, "message": translate_error(exc), "details": []}}), 413
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return jsonify({"error": {"code": exc.code, "message": translate_error(exc),
                                  "details": _shown(exc.details)}}), exc.status
    out["message"] = _("已保存为草稿版本 %(v)s。", v=out["version"])
    return jsonify(out), 201


def _decision_file(s, user, code: str, definition_id: int, file_id: int):
    """A stored version of this item (in the designer's scope) and one of its DMN files, or 404."""
    item = _item_in_scope(s, user, code)
    d = definitions.get(s, definition_id)
    found = next((f for f in d.decision_files if f.id == file_id), None) if d.item_id == item.id else None
    if found is None:
        raise NotFound(f"no DMN file {file_id} in definition {definition_id}")
    return d, found


@web.get("/design/<code>/definitions/<int:definition_id>/dmn/<int:file_id>")
def dmn_editor(code: str, definition_id: int, file_id: int):
    """dmn-js on one DMN file of a version; saving makes a new draft version (stored versions never change)."""
    with db().unit_of_work() as s:
        user = signed_in(s, "designer")
        d, found = _decision_file(s, user, code, definition_id, file_id)
        item = {"code": d.item.code, "name": d.item.name}
        version = render.definition(d)
        shown = {"id": found.id, "file": found.filename, "tables": found.tables}
    return render_template("web/dmn_editor.html", item=item, version=version, dmn=shown,
                           source=url_for("web.dmn_xml", code=code, definition_id=definition_id, file_id=file_id),
                           save=url_for("web.save_dmn", code=code, definition_id=definition_id, file_id=file_id))


@web.get("/design/<code>/definitions/<int:definition_id>/dmn/<int:file_id>/xml")
def dmn_xml(code: str, definition_id: int, file_id: int):
    with db().unit_of_work() as s:
        _d, found = _decision_file(s, signed_in(s, "designer"), code, definition_id, file_id)
        xml = found.xml
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, no-store"})


@web.post("/design/<code>/definitions/<int:definition_id>/dmn/<int:file_id>")
def save_dmn(code: str, definition_id: int, file_id: int):
    """The DMN editor's save: the edited DMN XML as the body (CSRF token in X-CSRFToken). The new draft keeps the
    version's BPMN and its other DMN files, in their order, with this one replaced."""
    edited = request.get_data(cache=False)

    def parts(s, user):
        d, found = _decision_file(s, user, code, definition_id, file_id)
        files = sorted(d.decision_files, key=lambda f: f.position)
        return d.xml.encode("utf-8"), [(f.filename, edited if f.id == found.id else f.xml.encode("utf-8"))
                                       for f in files]
    return _saved(code, parts)


def _shown(details: list) -> list:
    """The problems as the page pins them: each with `shown`, its text in the page's language."""
    return [{**d, "shown": problem_text(d["message"])} if isinstance(d, dict) and isinstance(d.get("message"), str)
            else d for d in details]


@web.post("/design/definitions/<int:definition_id>/submit")
def submit_definition(definition_id: int):
    with db().unit_of_work() as s:
        user = signed_in(s, "designer")
        d = definitions.get(s, definition_id)
        code = d.item.code
        if not can_see(user, d.item.org_unit):
            raise NotFound(f"no definition {definition_id}")
    try:
        with db().unit_of_work() as s:
            definitions.submit(s, signed_in(s, "designer"), definition_id, settings().tz)
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("已提交法制审核。"), "success")
    return redirect(url_for("web.modeler", code=code, definition=definition_id))
