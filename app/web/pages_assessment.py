"""考核评估 pages: the supervisors' and admins' report (period picker, ranking, charts, versions, drill-down,
publishing, the scheme), the deputies' evaluation page, and the public page of the latest published version.
Thin: the same services as /api/v1/assessment."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from app import clock
from app.api import render
from app.assessment import evaluations, export, periods, scheme
from app.assessment import service as assessment
from app.errors import DomainError, Invalid, NotFound

from . import web
from .common import db, flash_error, settings, signed_in
from .i18n import _

VIEWERS = ("supervisor", "admin")


def _default_period() -> str:
    """The month before this one: the last whole month, the usual one to check."""
    today = clock.now().astimezone(settings().tz)
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{month:02d}"


def _version_arg() -> int | None:
    raw = (request.args.get("version") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 10**6:
        raise Invalid("version", details=[{"field": "version"}])
    return int(raw)


def _report(s, user, label: str, version: int | None) -> dict:
    if version is None:
        return assessment.draft(s, settings(), user, label)
    return assessment.published(s, settings(), user, label, version)


@web.get("/assessment")
def assessment_page():
    label = (request.args.get("period") or "").strip()[:10] or _default_period()
    with db().unit_of_work() as s:
        user = signed_in(s, *VIEWERS)
        try:
            report = _report(s, user, label, _version_arg())
        except (Invalid, NotFound) as exc:
            flash_error(exc)
            label = _default_period()
            report = _report(s, user, label, None)
        district_admin = user.role == "admin" and user.org_unit.parent_id is None
        view = {"report": render.jsonable(report), "label": label, "district_admin": district_admin,
                "scheme_config": scheme.current(s), "versions": list(range(1, (report["latest_version"] or 0) + 1)),
                "months": periods.months_of(periods.parse(label, settings().tz)),
                "campaigns": [evaluations.describe(s, c, user) for c in evaluations.visible(s, user)][:20]}
    return render_template("web/assessment.html", **view)


@web.get("/assessment/<period>/departments/<org_code>")
def assessment_department(period: str, org_code: str):
    with db().unit_of_work() as s:
        user = signed_in(s, *VIEWERS)
        detail = render.jsonable(assessment.department(s, settings(), user, period, org_code))
    return render_template("web/assessment_department.html", d=detail, label=period)


@web.get("/assessment/export.xlsx")
def assessment_xlsx():
    label = (request.args.get("period") or "").strip()[:10]
    with db().unit_of_work() as s:
        report = _report(s, signed_in(s, *VIEWERS), label, _version_arg())
    name = f"assessment-{report['period']}-{report['status']}{report['version'] or ''}.xlsx"
    return Response(export.workbook(report), headers={"Content-Disposition": f"attachment; filename={name}"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@web.post("/assessment/publish")
def assessment_publish():
    label = (request.form.get("period") or "").strip()[:10]
    try:
        with db().unit_of_work() as s:
            out = assessment.publish(s, settings(), signed_in(s, *VIEWERS), label)
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("web.assessment_page", period=label))
    flash(_("已发布 %(p)s 考核结果第 %(v)s 版。", p=label, v=out["version"]), "success")
    return redirect(url_for("web.assessment_page", period=label, version=out["version"]))


@web.post("/assessment/scheme")
def assessment_scheme():
    form, label = request.form, (request.form.get("period") or "").strip()[:10]
    body = {}
    try:
        for section, keys in (("weights", scheme.PARTS), ("deductions", scheme.DEDUCTIONS),
                              ("grades", scheme.GRADES)):
            body[section] = {k: float(form.get(f"{section}.{k}", "")) for k in keys}
    except ValueError:
        flash(_("请填写数字。"), "error")
        return redirect(url_for("web.assessment_page", period=label))
    try:
        with db().unit_of_work() as s:
            scheme.update(s, signed_in(s, "admin"), body)
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("考核办法已更新，草稿按新办法重新计分。"), "success")
    return redirect(url_for("web.assessment_page", period=label))


@web.get("/assessment/public")
def assessment_public():
    label = (request.args.get("period") or "").strip()[:10] or _default_period()
    result, missing = None, False
    with db().unit_of_work() as s:
        try:
            result = render.jsonable(assessment.latest_public(s, settings(), label))
        except NotFound:
            missing = True
        except Invalid as exc:
            flash_error(exc)
            missing = True
    return render_template("web/assessment_public.html", result=result, missing=missing, label=label)


# --- the deputies' page --------------------------------------------------------------------------------------
@web.get("/evaluate")
def evaluate_page():
    with db().unit_of_work() as s:
        user = signed_in(s, "evaluator")
        campaigns = [evaluations.describe(s, c, user) for c in evaluations.visible(s, user)]
    return render_template("web/evaluate.html", campaigns=render.jsonable(campaigns))


@web.post("/evaluate/<int:campaign_id>")
def evaluate_submit(campaign_id: int):
    form = request.form
    raw = (form.get("score") or "").strip()
    body = {"department": form.get("department"), "score": int(raw) if raw.isdigit() else raw,
            "comment": form.get("comment") or ""}
    try:
        with db().unit_of_work() as s:
            evaluations.respond(s, signed_in(s, "evaluator"), campaign_id, body)
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("评议已提交，谢谢。"), "success")
    return redirect(url_for("web.evaluate_page"))
