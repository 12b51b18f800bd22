"""An item's time limits and how they are counted: units, the step that starts the clocks, extension caps.

Defaults follow the law, by category:
- licensing (行政许可法 Art. 82): working days; one extension of at most 10 working days (Art. 42);
- penalty (行政处罚法 Art. 60, 85) and enforcement (行政强制法 Art. 25, 69): calendar days, except limits of
  ten days or less, which the same laws count in working days; one extension of at most 30 days
  (行政强制法 Art. 25; 《市场监督管理行政处罚程序规定》 Art. 64 for penalties);
- levy and other: working days, one extension of at most 10 working days (by analogy with licensing; no
  general statute — set each item's own).
"""
from __future__ import annotations

import re

from app.errors import Invalid

from .models import CLOCK_UNITS, PUBLICATION_MODES

NATURAL_CATEGORIES = ("penalty", "enforcement")
SHORT_LIMIT = 10  # 行政处罚法 Art. 85, 行政强制法 Art. 69: limits of ten days or less are working days
EXTENSION_DEFAULTS = {"licensing": (1, 10), "penalty": (1, 30), "enforcement": (1, 30), "levy": (1, 10),
                      "other": (1, 10)}  # (max_extensions, max_extension_days in the statutory unit)
MAX_DAYS = 3650
MAX_TIMED_STEPS = 50
BPMN_ID = re.compile(r"^[A-Za-z_][\w.-]{0,199}$")  # an XML NCName, as bpmn.io writes ids


def default_unit(category: str, days: int) -> str:
    """The unit the law counts a limit of `days` in, for an item of `category`."""
    return "natural" if category in NATURAL_CATEGORIES and days > SHORT_LIMIT else "working"


def whole(body: dict, field: str, low: int, high: int, *, unit: str = "days") -> int:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{field} must be a whole number of {unit} ({low}–{high})", details=[{"field": field}])
    return value


def unit(body: dict, field: str) -> str:
    value = body.get(field)
    if value not in CLOCK_UNITS:
        raise Invalid(f"{field} must be one of {', '.join(CLOCK_UNITS)} (工作日 | 自然日)",
                      details=[{"field": field}])
    return value


def step_id(body: dict, field: str) -> str | None:
    """A BPMN element id or null; whether the diagram has such a user task is checked against the diagram."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not BPMN_ID.match(value):
        raise Invalid(f"{field} must be the BPMN id of a user task (like Task_accept) or null",
                      details=[{"field": field}])
    return value


def timed_steps(body: dict, field: str = "min_step_seconds") -> dict:
    """{bpmn_id: minimum seconds, or null for the rule's default}: the only steps rule R01 looks at."""
    raw = body.get(field)
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_TIMED_STEPS:
        raise Invalid(f"{field} must be an object {{step id: seconds}} of at most {MAX_TIMED_STEPS} steps",
                      details=[{"field": field}])
    out = {}
    for step, seconds in raw.items():
        if not isinstance(step, str) or not BPMN_ID.match(step):
            raise Invalid(f"{field}: {step!r} is not a BPMN id", details=[{"field": f"{field}.{step}"}])
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)
                                    or not 1 <= seconds <= 86400):
            raise Invalid(f"{field}.{step} must be a whole number of seconds (1–86400) or null",
                          details=[{"field": f"{field}.{step}"}])
        out[step] = seconds
    return out


def flag(body: dict, field: str) -> bool:
    value = body.get(field)
    if not isinstance(value, bool):
        raise Invalid(f"{field} must be true or false", details=[{"field": field}])
    return value


def optional_days(body: dict, field: str, low: int, high: int) -> int | None:
    return None if body.get(field) is None else whole(body, field, low, high)


DECISION_OUTCOMES = ("granted", "denied", "penalty", "no_penalty", "other")  # 准予, 不予, 处罚, 不予处罚, 其他
MAX_AMOUNT = 10**12
MAX_KEYWORDS = 20


def amount(value, field: str):
    """A sum of money in yuan (a whole or decimal number, not negative), or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_AMOUNT \
            or value != value:
        raise Invalid(f"{field} must be a number of yuan (0–{MAX_AMOUNT})", details=[{"field": field}])
    return value


def major_rule(body: dict, field: str) -> dict | None:
    """重大执法决定: {min_amount?, outcomes?, keywords?} or null. A decision is major when its outcome is among
    `outcomes` (any outcome when the list is empty) and — when min_amount or keywords are given — its amount
    reaches min_amount or its summary names one of the keywords (e.g. 吊销, 责令停产停业)."""
    raw = body.get(field)
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"min_amount", "outcomes", "keywords"}:
        raise Invalid(f"{field} must be an object {{min_amount, outcomes, keywords}} or null",
                      details=[{"field": field}])
    outcomes = raw.get("outcomes") or []
    if not isinstance(outcomes, list) or any(o not in DECISION_OUTCOMES for o in outcomes):
        raise Invalid(f"{field}.outcomes must list outcomes among {', '.join(DECISION_OUTCOMES)}",
                      details=[{"field": f"{field}.outcomes"}])
    keywords = raw.get("keywords") or []
    if not isinstance(keywords, list) or len(keywords) > MAX_KEYWORDS or any(
            not isinstance(k, str) or not k.strip() or len(k) > 50 or "\x00" in k for k in keywords):
        raise Invalid(f"{field}.keywords must be at most {MAX_KEYWORDS} short words", details=[{"field": f"{field}.keywords"}])
    return {"min_amount": amount(raw.get("min_amount"), f"{field}.min_amount"),
            "outcomes": list(dict.fromkeys(outcomes)), "keywords": [k.strip() for k in keywords]}


def publication(body: dict, field: str) -> str:
    value = body.get(field)
    if value not in PUBLICATION_MODES:
        raise Invalid(f"{field} must be auto (published when made) or clerk (held for a clerk to publish)",
                      details=[{"field": field}])
    return value


# field -> parser(body, field): what POST and PATCH accept about limits beyond the two day counts.
PARSERS = {
    "promised_unit": unit,
    "statutory_unit": unit,
    "clock_start_step": step_id,
    "supplement_step": step_id,
    "decision_step": step_id,
    "major_decision": major_rule,
    "decision_publication": publication,
    "max_extensions": lambda b, f: whole(b, f, 0, 10, unit="extensions"),
    "max_extension_days": lambda b, f: whole(b, f, 0, MAX_DAYS),
    "warn_days": lambda b, f: whole(b, f, 0, 30),
    "min_step_seconds": timed_steps,
    "allows_deferred": flag,
    "pledge_verify_days": lambda b, f: optional_days(b, f, 1, 365),
    "promised_days": lambda b, f: whole(b, f, 0, MAX_DAYS),
    "statutory_days": lambda b, f: whole(b, f, 0, MAX_DAYS),
}
RECOUNTED = ("promised_days", "statutory_days", "promised_unit", "statutory_unit", "warn_days")


def with_defaults(category: str, fields: dict) -> dict:
    """The fields of a new item: what the body gave, the law's defaults for the rest."""
    out = dict(fields)
    out.setdefault("promised_unit", default_unit(category, out["promised_days"]))
    out.setdefault("statutory_unit", default_unit(category, out["statutory_days"]))
    max_ext, max_days = EXTENSION_DEFAULTS[category]
    out.setdefault("max_extensions", max_ext)
    out.setdefault("max_extension_days", max_days)
    return out


def check_consistent(promised_days: int, promised_unit: str, statutory_days: int, statutory_unit: str) -> None:
    """The promised limit (承诺) is a promise to do better than the law (法定); in one unit it cannot be longer."""
    if promised_unit == statutory_unit and promised_days > statutory_days:
        raise Invalid("the promised limit (承诺时限) cannot exceed the statutory limit (法定时限)",
                      details=[{"field": "promised_days"}])


def steps_named(item) -> dict[str, str]:
    """The item's fields that name a step of its diagram: {field: bpmn_id}."""
    named = {f: getattr(item, f) for f in ("clock_start_step", "supplement_step", "decision_step") if getattr(item, f)}
    for step in item.min_step_seconds or {}:
        named[f"min_step_seconds.{step}"] = step
    return named
