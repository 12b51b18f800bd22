"""Timer values as designers type them, and SpiffWorkflow's clock bound to Sunlight's.

bpmn.io writes `<timeDuration>PT72H</timeDuration>`; SpiffWorkflow evaluates that text as Python and fails
at run time. So every timer expression is classified once, when the spec is built:
  * a bare ISO-8601 value (`PT72H`, `P3D`, `R3/PT24H`, `2026-12-01T09:00:00+08:00`) → quoted literal;
  * the same value already quoted → kept;
  * `workdays(N)` → N working days from when the timer starts (a date, whatever element holds it);
  * anything else must be a safe expression (checked like a condition) that yields such a value.
Naive date-times are read in the configured TIMEZONE, not the server's local zone.
"""
from __future__ import annotations

import ast
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition, DurationTimerEventDefinition, TimeDateEventDefinition, TimerEventDefinition)

from app import clock

from .expressions import ExpressionError, check_expression

WORKDAYS = re.compile(r"^workdays\(\s*(\d{1,4})\s*\)$")
# Typed as a bare ISO value: only ISO characters, or a mistyped duration (`PT72X`) that would otherwise pass as
# the name of a data field and fail only when the timer starts.
ISO_LIKE = re.compile(r"[0-9PRTWYMDHS:+\-./,Z]+|(R\d*/)?PT?\d\w*", re.I)
MAX_WORKDAYS = 3650


# One action on a case sees one instant: a timer cannot fall due between the refresh that fires the due ones and
# the message caught a moment later, so a message racing a timer (event-based gateway) resolves exactly once.
_PINNED: ContextVar[datetime | None] = ContextVar("sunlight_engine_now", default=None)


class _SunlightDatetime(datetime):
    """SpiffWorkflow reads the time only through timer.py's `datetime.now`; route it to app.clock."""

    @classmethod
    def now(cls, tz=None):  # noqa: D401 - same signature as datetime.now
        moment = _PINNED.get() or clock.now()
        return moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)


@contextmanager
def pinned(moment: datetime | None = None):
    """While inside, SpiffWorkflow's clock stands still at `moment` (now by default), in this thread only."""
    token = _PINNED.set(moment or clock.now())
    try:
        yield
    finally:
        _PINNED.reset(token)


spiff_timer.datetime = _SunlightDatetime


class TimerValueError(ValueError):
    pass


def _literal(text: str) -> str | None:
    """The string inside a quoted Python literal ('...' or "..."), else None."""
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _aware(value: str, tz: ZoneInfo) -> str:
    """A date or date-time literal as an aware ISO string (naive → TIMEZONE)."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.isoformat()


def check_literal(kind: type, value: str, tz: ZoneInfo) -> str:
    """Validate an ISO timer value for its element kind; return it normalised (aware dates)."""
    value = value.strip()
    try:
        if issubclass(kind, DurationTimerEventDefinition):
            if not value.upper().startswith("P") or not TimerEventDefinition.parse_iso_duration(value):
                raise TimerValueError
            return value
        if issubclass(kind, CycleTimerEventDefinition):
            if not value.upper().startswith("R"):
                raise TimerValueError
            parts = value.split("/")
            parts = [_aware(p, tz) if p[:1].isdigit() else p for p in parts]
            value = "/".join(parts)
            TimerEventDefinition.parse_iso_recurring_interval(value)
            return value
        value = _aware(value, tz)
        TimerEventDefinition.get_datetime(value)
        return value
    except (TimerValueError, ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError):
        pass
    except Exception:  # SpiffWorkflow raises a bare Exception('Invalid duration')
        pass
    examples = {DurationTimerEventDefinition: "PT72H or P3D", CycleTimerEventDefinition: "R3/PT24H"}
    example = next((v for k, v in examples.items() if issubclass(kind, k)), "2026-12-01T09:00:00+08:00")
    raise TimerValueError(f"'{value}' is not a valid ISO-8601 value here (for example {example}, or workdays(5))")


# Expression shapes that can never yield the ISO text a timer needs (a plain string literal is handled above).
_NOT_TEXT = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Compare, ast.BoolOp)

KINDS = {"timeDate": TimeDateEventDefinition, "timeDuration": DurationTimerEventDefinition,
         "timeCycle": CycleTimerEventDefinition}


def classify(kind: type, text: str, tz: ZoneInfo) -> tuple[str, bool, str | None]:
    """Return (expression to run, is a working-day deadline, warning) or raise TimerValueError."""
    raw = (text or "").strip()
    if not raw:
        raise TimerValueError("the timer has no value; type e.g. PT72H, P3D or workdays(5)")
    match = WORKDAYS.match(raw)
    if match:
        if not 0 < int(match.group(1)) <= MAX_WORKDAYS:
            raise TimerValueError(f"workdays(N) needs 1 ≤ N ≤ {MAX_WORKDAYS}")
        return raw, True, None
    literal = _literal(raw)
    bare = raw if literal is None and ISO_LIKE.fullmatch(raw) else None
    if literal is not None or bare is not None:
        return repr(check_literal(kind, literal if literal is not None else bare, tz)), False, None
    try:
        checked = check_expression(raw)
    except ExpressionError as exc:
        raise TimerValueError(f"'{raw[:100]}' is neither an ISO-8601 value nor a safe expression: {exc.message}") from None
    if isinstance(checked.tree, _NOT_TEXT):  # `None`, `72`, `a > b`: SpiffWorkflow would fail on it at run time
        raise TimerValueError(f"'{raw[:100]}' does not give a date, duration or cycle; type e.g. PT72H, P3D "
                              "or workdays(5)")
    return raw, False, f"the timer value '{raw[:100]}' is an expression; it is checked when the timer starts"


def normalise(defn: TimerEventDefinition, tz: ZoneInfo) -> tuple[TimerEventDefinition, str | None]:
    """Return the event definition to run (maybe replaced) and a warning, or raise TimerValueError."""
    expression, is_workdays, warning = classify(type(defn), defn.expression, tz)
    if is_workdays:
        # A working-day deadline is a date, whichever element the designer typed it into.
        return TimeDateEventDefinition(defn.name, expression, description=defn.description), None
    defn.expression = expression
    return defn, warning


def due_at(defn: TimerEventDefinition, details_value) -> datetime | None:
    """When a waiting timer falls due (aware UTC), from its stored event value."""
    if details_value is None:
        return None
    try:
        moment = TimerEventDefinition.get_datetime(details_value).astimezone(timezone.utc)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(moment.timestamp(), timezone.utc)  # a plain datetime, not the clock subclass
