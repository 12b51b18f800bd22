"""Supervision rule endpoints (监察规则): staff read the catalogue, admins configure it. Thin: parse, call, render."""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint

from app.orgs.service import require_district_admin
from app.supervision import rules
from app.supervision.models import NOTICE_LEVELS

from . import openapi as doc
from .common import caller, db, json_body

rules_api = Blueprint("rules", __name__, url_prefix="/api/v1")
STAFF = ("admin", "designer", "legal", "clerk", "supervisor")


def _rule_json(rule: rules.Rule) -> dict:
    default = rules.DEFAULTS[rule.code]
    return {**asdict(rule), "defaults": {"level": default.level, "enabled": default.enabled, "params": default.params}}


@rules_api.get("/rules")
def list_rules():
    with db().unit_of_work() as s:
        caller(s, *STAFF)
        return [_rule_json(r) for r in rules.catalogue(s)]


@rules_api.put("/rules/<code>")
def put_rule(code: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "admin")
        require_district_admin(user, "the supervision rules")
        return _rule_json(rules.configure(s, user.username, code, body))


_LEVEL = {"type": "string", "enum": list(NOTICE_LEVELS)}
_PARAMS = {"type": "object", "additionalProperties": True,
           "description": "R01 min_seconds; R02 min_minutes, min_steps; R03 max_working_days; "
                          "R04 false_fields, decision_fields, negative_words (lists of texts)"}
doc.document({
    "/api/v1/rules": {
        "get": doc.op("The supervision rules beyond time (R01…R04) as configured, with their defaults",
                      out={"type": "array", "items": doc.ref("Rule")})},
    "/api/v1/rules/{code}": {
        "put": doc.op("Enable or disable a rule, set its signal level or params (admin); given params replace "
                      "those keys only", out="Rule", body="RuleIn", errors=(400, 404, 415, 422),
                      params=[doc.path_param("code", {"type": "string", "enum": list(rules.DEFAULTS)})])},
}, {
    "RuleIn": {"type": "object", "additionalProperties": False, "properties": {
        "enabled": {"type": "boolean"}, "level": _LEVEL, "params": _PARAMS}},
    "Rule": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "level": _LEVEL, "enabled": {"type": "boolean"},
        "params": _PARAMS, "defaults": {"type": "object", "properties": {
            "level": _LEVEL, "enabled": {"type": "boolean"}, "params": _PARAMS}}}},
})
