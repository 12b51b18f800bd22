"""Rules beyond time (电子监察, domain C2/C4/B5): named, configurable checks on how a case was handled.

The catalogue lives here as code defaults; the supervision_rules table holds each district's configuration
(enabled, level, params). A rule without a row runs on its defaults, so a database that was never seeded —
or was emptied — still supervises. Each hook is a pure service function called inside the action's own
transaction; a violation raises one notice (source_key makes it once only), the case's card, and an audit
event "rule_violated" with the measured value, so the finding can be checked later from the trail alone.

- R01 a step completed implausibly fast: handled offline, then registered online (体外循环, C4). Only for the
  steps an item names (PowerItem.min_step_seconds), never by default: window work is fast by nature.
- R02 a case created and finished in one burst: finished cases bulk-entered afterwards (C4).
- R03 a 补正 notice issued more than N working days after receipt: the law then counts the application as
  accepted on the day of receipt (行政许可法 Art. 32(4), B5).
- R04 a negative decision without stated reasons or without a legal basis (C2).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.calendar import service as calendar
from app.cases import clocks
from app.db_batch import transaction_memo
from app.errors import Invalid, NotFound
from app.orgs.models import OrgUnit, User
from app.orgs.service import RECIPIENT_ONLY, REGISTRY

from . import deadlines
from . import service as notices
from .models import NOTICE_LEVELS, SupervisionRule
from .reasons import RULE_FAST_CASE, RULE_FAST_STEP, RULE_LATE_SUPPLEMENT, RULE_UNREASONED, Reason


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    level: str
    enabled: bool
    params: dict


DEFAULTS: dict[str, Rule] = {r.code: r for r in (
    Rule("R01", "环节办理过快（疑似体外循环） / Step completed implausibly fast", "yellow", True,
         {"min_seconds": 60}),
    Rule("R02", "创建即办结（疑似事后补录） / Case created and finished in one burst", "yellow", True,
         {"min_minutes": 10, "min_steps": 2}),
    Rule("R03", "补正告知超期 / 补正 notice issued late after receipt", "red", True,
         {"max_working_days": 5}),
    Rule("R04", "否定性决定未说明理由或法律依据 / Negative decision without opinion or legal basis", "red", True,
         {"false_fields": ["approved"], "decision_fields": ["decision"],
          "negative_words": ["不予许可", "不予受理", "不予批准", "不予登记", "不予立案", "不予处罚", "驳回", "撤案"]}),
)}

WORDS = "words"  # a param that is a list of short texts; otherwise (low, high) bounds of a whole number
PARAMS: dict[str, dict[str, object]] = {
    "R01": {"min_seconds": (1, 86400)},
    "R02": {"min_minutes": (1, 1440), "min_steps": (1, 100)},
    "R03": {"max_working_days": (1, 60)},
    "R04": {"false_fields": WORDS, "decision_fields": WORDS, "negative_words": WORDS},
}
MAX_WORDS, MAX_WORD = 50, 50

# A cited law (《…》) or article (第…条, numerals only: "第一次…不符合条件" must not count as a citation).
CITATION = re.compile(r"《[^《》]+》|第[一二三四五六七八九十百千零〇两\d]+条")


# --- the catalogue and its configuration ---------------------------------------------------------------------
def _merge(default: Rule, row) -> Rule:
    """The row over the defaults; params the code no longer knows are ignored, new ones take their default."""
    if row is None:
        return default
    stored = {k: v for k, v in (row.params or {}).items() if k in default.params}
    return replace(default, level=row.level, enabled=row.enabled, params={**default.params, **stored})


def catalogue(session: Session) -> list[Rule]:
    """Every rule as configured, enabled or not (for the admins)."""
    rows = {r.code: r for r in session.execute(_CONFIGURED)}
    return [_merge(rule, rows.get(code)) for code, rule in DEFAULTS.items()]


# Built once, read as plain rows: every step's checks read the configuration (issue 14).
_CONFIGURED = select(SupervisionRule.code, SupervisionRule.level, SupervisionRule.enabled, SupervisionRule.params)


def active(session: Session) -> dict[str, Rule]:
    """The enabled rules by code, as configured (read once per transaction: a step's checks ask several times)."""
    return transaction_memo(session, _ACTIVE, lambda: {r.code: r for r in catalogue(session) if r.enabled})


_ACTIVE = ("active_rules",)


def seed(session: Session) -> list[str]:
    """Insert the rules that have no row yet (never overwrites a district's configuration); returns their codes."""
    have = set(session.scalars(select(SupervisionRule.code)))
    added = [code for code in DEFAULTS if code not in have]
    for code in added:
        session.add(_row(DEFAULTS[code]))
    return added


def _row(rule: Rule) -> SupervisionRule:
    return SupervisionRule(code=rule.code, name=rule.name, level=rule.level, enabled=rule.enabled,
                           params=dict(rule.params))


def configure(session: Session, actor_name: str, code: str, body: dict) -> Rule:
    """Change a rule's enabled flag, level or params (given params replace those keys only); audited."""
    if code not in DEFAULTS:
        raise NotFound(f"no rule {code}")
    unknown = sorted(set(body) - {"enabled", "level", "params"})
    if unknown:
        raise Invalid(f"unknown field {unknown[0]}; send enabled, level or params", details=[{"field": unknown[0]}])
    row = session.get(SupervisionRule, code, with_for_update=True)
    if row is None:  # configured for the first time on a database that was never seeded
        row = _row(DEFAULTS[code])
        session.add(row)
    before = _merge(DEFAULTS[code], row)
    if "enabled" in body:
        row.enabled = _enabled(body["enabled"])
    if "level" in body:
        row.level = _level(body["level"])
    if "params" in body:
        row.params = {**before.params, **_params(code, body["params"])}  # a new dict: the JSON column sees it
    after = _merge(DEFAULTS[code], row)
    session.info.get("memo", {}).pop(_ACTIVE, None)  # what this transaction read before is stale now
    audit.record(session, REGISTRY, "rule_changed", actor_name,
                 detail={"code": code, "before": _state(before), "after": _state(after)})
    return after


def _state(rule: Rule) -> dict:
    return {"enabled": rule.enabled, "level": rule.level, "params": rule.params}


def _enabled(value) -> bool:
    if not isinstance(value, bool):
        raise Invalid("enabled must be true or false", details=[{"field": "enabled"}])
    return value


def _level(value) -> str:
    if value not in NOTICE_LEVELS:
        raise Invalid(f"level must be one of {', '.join(NOTICE_LEVELS)}", details=[{"field": "level"}])
    return value


def _params(code: str, raw) -> dict:
    if not isinstance(raw, dict):
        raise Invalid("params must be an object", details=[{"field": "params"}])
    out = {}
    for name, value in raw.items():
        kind = PARAMS[code].get(name)
        field = f"params.{name}"
        if kind is None:
            raise Invalid(f"rule {code} has no param {name}; it has {', '.join(PARAMS[code])}",
                          details=[{"field": field}])
        out[name] = _words(field, value) if kind == WORDS else _whole(field, value, *kind)
    return out


def _whole(field: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{field} must be a whole number from {low} to {high}", details=[{"field": field}])
    return value


def _words(field: str, value) -> list[str]:
    ok = isinstance(value, list) and len(value) <= MAX_WORDS and all(
        isinstance(w, str) and 0 < len(w.strip()) <= MAX_WORD for w in value)
    if not ok:
        raise Invalid(f"{field} must be a list of at most {MAX_WORDS} non-empty texts of at most {MAX_WORD} "
                      "characters", details=[{"field": field}])
    return [w.strip() for w in value]


# --- raising a violation -------------------------------------------------------------------------------------
def _violate(session: Session, settings, case, rule: Rule, *, clerks: list[User], reason: str, params: dict,
             measured: dict, task_row=None) -> bool:
    """One notice per rule, case and step (the source_key), its card, and the audit event; False if raised before."""
    bpmn_id = task_row.bpmn_id if task_row is not None else None
    notice = notices.raise_notice(
        session, case=case, org=session.get(OrgUnit, case.org_unit_id), clerks=clerks, task_bpmn_id=bpmn_id,
        level=rule.level, reason=Reason(reason, {"rule": rule.code, **params}),
        source_key=f"rule:{rule.code}:{case.id}:{task_row.id if task_row is not None else ''}",
        detail={"kind": "rule", "rule": rule.code, "measured": measured}, channels=settings.notice_channels)
    if notice is None:
        return False
    clocks.raise_card(case, rule.level)
    audit.record(session, audit.case_stream(case.id), "rule_violated", "system", case_id=case.id,
                 task_bpmn_id=bpmn_id, detail={"rule": rule.code, "level": rule.level, "measured": measured,
                                               "params": rule.params, "notice": notice.source_key})
    return True


def _users(session: Session, ids) -> list[User]:
    ids = sorted(i for i in ids if i is not None)
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)
                                .options(*RECIPIENT_ONLY))) if ids else []


def _step_clerks(session: Session, case, task_row) -> list[User]:
    """Whoever completed the step answers for it; without one, the clerks of the open steps."""
    return _users(session, [task_row.completed_by_id]) or deadlines.clerks_of_open_steps(session, case)


# --- the hooks -----------------------------------------------------------------------------------------------
def on_task_completed(session: Session, settings, case, task_row, data, opinion, now: datetime) -> int:
    """R01 and R04 on a step just completed (task_row has completed_by_id and opinion set); how many raised."""
    data, opinion, timed = data if isinstance(data, dict) else {}, opinion or "", case.item.min_step_seconds or {}
    if not data and task_row.bpmn_id not in timed:
        return 0  # neither can apply (R04 reads a decision from the data), so the configuration is not read
    rules, raised = active(session), 0
    if "R01" in rules and task_row.kind == "user" and task_row.bpmn_id in timed:
        raised += _fast_step(session, settings, case, task_row, rules["R01"], now, timed[task_row.bpmn_id])
    if "R04" in rules:
        raised += _unreasoned_refusal(session, settings, case, task_row, rules["R04"], data, opinion)
    return raised


def _fast_step(session, settings, case, task_row, rule: Rule, now: datetime, minimum: int | None) -> bool:
    """Only for a step the item names: a window clerk completes 收件/受理 in seconds, and that is normal work."""
    minimum = minimum or rule.params["min_seconds"]
    # Server timestamps only (C4): the step's row was created when it became ready, by this server's clock.
    seconds = (now - task_row.created_at).total_seconds()
    if seconds >= minimum:
        return False
    step = task_row.name or task_row.bpmn_id
    return _violate(session, settings, case, rule, clerks=_step_clerks(session, case, task_row), task_row=task_row,
                    reason=RULE_FAST_STEP,
                    params={"step": step, "seconds": f"{max(seconds, 0):.0f}", "minimum": minimum},
                    measured={"seconds": round(seconds, 3), "min_seconds": minimum})


def negative_reason(data: dict, params: dict) -> str | None:
    """What makes the completion a negative decision (e.g. "approved=false"), or None."""
    for name in params["false_fields"]:
        if data.get(name) is False:
            return f"{name}=false"
    for name in params["decision_fields"]:  # a word anywhere in the text: "决定不予许可" is a refusal too
        value = data.get(name)
        if isinstance(value, str) and any(word in value for word in params["negative_words"]):
            return f"{name}={value}"
    return None


def has_legal_basis(data: dict, opinion: str) -> bool:
    """A non-empty legal_basis field, or an opinion citing a law (《…》) or an article (第…条)."""
    basis = data.get("legal_basis")
    return (isinstance(basis, str) and bool(basis.strip())) or bool(CITATION.search(opinion))


def _unreasoned_refusal(session, settings, case, task_row, rule: Rule, data: dict, opinion: str) -> bool:
    negative = negative_reason(data, rule.params)
    if negative is None:
        return False
    stated, basis = bool(opinion.strip()), has_legal_basis(data, opinion)
    if stated and basis:
        return False
    step = task_row.name or task_row.bpmn_id
    return _violate(session, settings, case, rule, clerks=_step_clerks(session, case, task_row), task_row=task_row,
                    reason=RULE_UNREASONED[(stated, basis)], params={"step": step, "negative": negative},
                    measured={"negative": negative, "opinion": stated, "legal_basis": basis})


def on_case_completed(session: Session, settings, case, now: datetime) -> bool:
    """R02 on a case that has just finished: created and finished within minutes, over several steps."""
    rule = active(session).get("R02")
    if rule is None:
        return False
    steps = [t for t in case.tasks if t.kind == "user" and t.state == "completed"]
    minutes = (now - case.created_at).total_seconds() / 60
    if len(steps) < rule.params["min_steps"] or minutes >= rule.params["min_minutes"]:
        return False
    # The clerks who worked the case answer for it: a finished case has no open steps to address.
    clerks = _users(session, {t.completed_by_id for t in steps}) or deadlines.clerks_of_open_steps(session, case)
    return _violate(session, settings, case, rule, clerks=clerks,
                    reason=RULE_FAST_CASE,
                    params={"minutes": f"{minutes:.1f}", "steps": len(steps), "limit": rule.params["min_minutes"]},
                    measured={"minutes": round(minutes, 3), "steps": len(steps)})


def on_supplement_requested(session: Session, settings, case, now: datetime) -> bool:
    """R03, called when a 补正 (supplement) stop starts: told later than N working days after receipt?"""
    rule = active(session).get("R03")
    if rule is None:
        return False
    # Counted from receipt (收件: the case was registered), not from acceptance, which the 补正 delays.
    days = calendar.load(session, settings.tz).working_days_in(case.created_at, now)
    limit = rule.params["max_working_days"]
    if days <= limit:
        return False
    return _violate(session, settings, case, rule, clerks=deadlines.clerks_of_open_steps(session, case),
                    reason=RULE_LATE_SUPPLEMENT, params={"days": days, "limit": limit},
                    measured={"working_days": days})
