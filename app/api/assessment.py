"""Assessment endpoints (考核评估, CONTRACT.md): thin — parse, call the assessment room, render."""
from __future__ import annotations

from flask import Blueprint, Response, request

from app.assessment import evaluations, export, scheme
from app.assessment import service as assessment
from app.errors import Invalid

from . import openapi as doc
from . import render
from .common import caller, db, json_body, settings

assessment_api = Blueprint("assessment", __name__)
VIEWERS = ("supervisor", "admin")


def _version() -> int | None:
    raw = request.args.get("version")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 0 < int(raw) < 10**6:
        raise Invalid("version must be a whole number ≥ 1", details=[{"field": "version"}])
    return int(raw)


def _period() -> str:
    return request.args.get("period") or ""


def report(s, user, period: str, version: int | None) -> dict:
    if version is None:
        return assessment.draft(s, settings(), user, period)
    return assessment.published(s, settings(), user, period, version)


@assessment_api.get("/api/v1/assessment")
def get_assessment():
    with db().unit_of_work() as s:
        user = caller(s, *VIEWERS)
        return render.jsonable(report(s, user, _period(), _version()))


@assessment_api.get("/api/v1/assessment.xlsx")
def get_assessment_xlsx():
    with db().unit_of_work() as s:
        user = caller(s, *VIEWERS)
        out = report(s, user, _period(), _version())
    name = f"assessment-{out['period']}-{out['status']}{out['version'] or ''}.xlsx"
    return Response(export.workbook(out), headers={"Content-Disposition": f"attachment; filename={name}"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@assessment_api.post("/api/v1/assessment/<period>/publish")
def publish(period: str):
    json_body(required=False)
    with db().unit_of_work() as s:
        user = caller(s, "admin")
        return render.jsonable(assessment.publish(s, settings(), user, period)), 201


@assessment_api.get("/api/v1/assessment/<period>/departments/<org_code>")
def department(period: str, org_code: str):
    with db().unit_of_work() as s:
        user = caller(s, *VIEWERS)
        return render.jsonable(assessment.department(s, settings(), user, period, org_code))


@assessment_api.get("/api/v1/assessment/scheme")
def get_scheme():
    with db().unit_of_work() as s:
        caller(s, *VIEWERS)
        return {"scheme": scheme.current(s), "default": scheme.DEFAULT}


@assessment_api.put("/api/v1/assessment/scheme")
def put_scheme():
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "admin")
        return {"scheme": scheme.update(s, user, body), "default": scheme.DEFAULT}


@assessment_api.post("/api/v1/evaluations")
def create_campaign():
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "admin")
        campaign = evaluations.create(s, settings(), user, body)
        return render.jsonable(evaluations.describe(s, campaign, user)), 201


@assessment_api.get("/api/v1/evaluations")
def list_campaigns():
    with db().unit_of_work() as s:
        user = caller(s, "admin", "supervisor", "evaluator")
        return render.jsonable([evaluations.describe(s, c, user) for c in evaluations.visible(s, user)])


@assessment_api.post("/api/v1/evaluations/<int:campaign_id>/responses")
def respond(campaign_id: int):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "evaluator")
        r = evaluations.respond(s, user, campaign_id, body)
        return {"campaign_id": campaign_id, "department": body.get("department"), "score": r.score,
                "comment": r.comment, "created_at": render.iso(r.created_at)}, 201


@assessment_api.get("/public/api/v1/assessment")
def public_assessment():
    with db().unit_of_work() as s:
        return render.jsonable(assessment.latest_public(s, settings(), _period()))


PERIOD = {"type": "string", "pattern": r"^(20\d\d|2100)(-(0[1-9]|1[0-2])|-Q[1-4])?$",
          "description": "a month (2026-11), a quarter (2026-Q4) or a year (2026), 2000–2100"}
_P = doc.query_param("period", PERIOD, required=True)
_V = doc.query_param("version", {"type": "integer"})
_ERR = (400, 404, 422)
_FIGURES = {"type": "object", "additionalProperties": True, "description": (
    "per department: org_code, org_name, org_kind, cases_accepted, cases_completed, completed_on_time, on_time_rate, "
    "cards {warning, yellow, red}, orders {issued, overdue}, ratings, rating_avg, items_active, items_with_cases, "
    "online_run_rate, evaluation_avg, score, grade, rank")}
_REPORT = {"type": "object", "properties": {
    "period": {"type": "string"}, "from": {"type": "string", "format": "date-time"},
    "to": {"type": "string", "format": "date-time"}, "status": {"type": "string", "enum": ["draft", "published"]},
    "version": {"type": "integer", "nullable": True}, "generated_at": {"type": "string", "format": "date-time"},
    "departments": {"type": "array", "items": _FIGURES},
    "differences": {"type": "array", "items": {"type": "object", "additionalProperties": True},
                    "description": "against the version before (a draft: against the latest published)"}}}
doc.document({
    "/api/v1/assessment": {"get": doc.op(
        "The period's assessment per department in scope: the live draft, or a published version (supervisor, "
        "admin)", out=_REPORT, errors=_ERR, params=[_P, _V])},
    "/api/v1/assessment.xlsx": {"get": doc.op(
        "The same figures as an XLSX workbook", errors=_ERR, params=[_P, _V],
        media={"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}}})},
    "/api/v1/assessment/{period}/publish": {"post": doc.op(
        "Freeze the district's figures as version N+1 (an admin of the district; audited)", 201, _REPORT,
        errors=(400, 409, 415, 422), params=[doc.path_param("period", PERIOD)])},
    "/api/v1/assessment/{period}/departments/{org_code}": {"get": doc.op(
        "A department's drill-down: figures, late cases, cards, orders, bad ratings, items that ran no case, "
        "R01/R02 notices", errors=_ERR, params=[doc.path_param("period", PERIOD), doc.path_param("org_code")])},
    "/api/v1/assessment/scheme": {
        "get": doc.op("The scheme: weights, deductions, grade thresholds (and the default)"),
        "put": doc.op("Change the scheme (an admin of the district; audited)", body="AssessmentScheme",
                      errors=(400, 415, 422))},
    "/api/v1/evaluations": {
        "post": doc.op("Set up a deputies' evaluation campaign (admin)", 201, body="CampaignIn",
                       errors=(400, 415, 422)),
        "get": doc.op("Campaigns: admins and supervisors all, an evaluator their own",
                      out={"type": "array", "items": {"type": "object"}})},
    "/api/v1/evaluations/{campaign_id}/responses": {"post": doc.op(
        "An evaluator's score for one department of their campaign, once (a second: 409)", 201,
        body="EvaluationIn", errors=(400, 404, 409, 415, 422),
        params=[doc.path_param("campaign_id", {"type": "integer"})])},
    "/public/api/v1/assessment": {"get": doc.op(
        "The latest published assessment of a period, department level (404 before one exists)", auth=False,
        tag="public", errors=_ERR, params=[_P])},
}, {
    "AssessmentScheme": {"type": "object", "properties": {
        "weights": {"type": "object", "additionalProperties": {"type": "number"}},
        "deductions": {"type": "object", "additionalProperties": {"type": "number"}},
        "grades": {"type": "object", "additionalProperties": {"type": "number"}}}},
    "CampaignIn": {"type": "object", "required": ["period", "title", "evaluators", "departments"], "properties": {
        "period": PERIOD, "title": {"type": "string", "minLength": 1, "maxLength": 300, "pattern": r"\S"},
        "evaluators": {"type": "array", "items": {"type": "string"}},
        "departments": {"type": "array", "items": {"type": "string"}}}},
    "EvaluationIn": {"type": "object", "required": ["department", "score"], "properties": {
        "department": {"type": "string"}, "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "comment": {"type": "string"}}},
})
