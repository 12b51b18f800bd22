"""Working-day calendar endpoints (工作日历): any staff may read a year, admins replace it or read the yearly
notice into dates for review. Thin: parse, call, render."""
from __future__ import annotations

from flask import Blueprint

from app.calendar import service as calendar
from app.orgs.service import require_district_admin
from app.supervision import calendar_edits

from . import openapi as doc
from . import render
from .common import caller, db, json_body, settings

calendar_api = Blueprint("calendar", __name__, url_prefix="/api/v1")
STAFF = ("admin", "designer", "legal", "clerk", "supervisor")


def _year_json(year: dict) -> dict:
    return {**year, "updated_at": render.iso(year["updated_at"])}


@calendar_api.get("/calendar/<int:year>")
def get_year(year: int):
    with db().unit_of_work() as s:
        caller(s, *STAFF)
        return _year_json(calendar.get_year(s, year))


@calendar_api.put("/calendar/<int:year>")
def put_year(year: int):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "admin")
        require_district_admin(user, "the working-day calendar")
        return _year_json(calendar_edits.set_year(s, settings(), user.username, year, body.get("holidays"),
                                                  body.get("workdays"), body.get("source", "admin")))


@calendar_api.post("/calendar/<int:year>/parse")
def parse_notice(year: int):
    """The pasted yearly notice read into dates, compared with what is stored; nothing is saved."""
    body = json_body()
    with db().unit_of_work() as s:
        caller(s, "admin")
        return calendar.read_notice(s, year, body.get("text"))


_YEAR = doc.path_param("year", {"type": "integer", "minimum": calendar.YEAR_RANGE[0],
                                "maximum": calendar.YEAR_RANGE[1]})
_DAYS = {"type": "array", "maxItems": calendar.MAX_ENTRIES, "items": {"type": "string", "format": "date"}}
doc.document({
    "/api/v1/calendar/{year}": {
        "get": doc.op("A year of the working-day calendar; known: false when it has not been entered yet",
                      out="CalendarYear", errors=(422,), params=[_YEAR]),
        "put": doc.op("Replace a year's holidays and make-up working days (admin); open cases' deadlines move",
                      out="CalendarEdit", body="CalendarYearIn", errors=(400, 415, 422), params=[_YEAR])},
    "/api/v1/calendar/{year}/parse": {
        "post": doc.op("Read the pasted yearly notice (国务院办公厅关于YYYY年部分节假日安排的通知) into dates and "
                       "compare them with the stored year (admin); nothing is saved: PUT the year to save",
                       out="CalendarNoticeParse", body="CalendarNoticeIn", errors=(400, 413, 415, 422),
                       params=[_YEAR])},
}, {
    "CalendarNoticeIn": {"type": "object", "required": ["text"], "properties": {
        "text": {"type": "string", "maxLength": calendar.MAX_NOTICE_CHARS,
                 "description": "the notice as pasted; a year it names must be the path's (else 422 year_mismatch)"}}},
    "CalendarNoticeParse": {"type": "object", "properties": {
        "year": {"type": "integer"},
        "holidays": {**_DAYS, "description": "every day of every 放假 span in the year, weekends included"},
        "workdays": {**_DAYS, "description": "every 上班 day (调休)"},
        "entries": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string", "nullable": True, "description": "the festival, as the notice names it"},
            "holidays": _DAYS, "workdays": _DAYS, "source": {"type": "string"}}}},
        "problems": {"type": "array", "description": "what looks like an arrangement but could not be read, and "
                     "failed cross-checks (共N天 against the span, the weekday in brackets against the date…)",
                     "items": {"type": "object", "properties": {
                         "code": {"type": "string"}, "text": {"type": "string"}, "message": {"type": "string"},
                         "params": {"type": "object", "additionalProperties": True}}}},
        "changes": {"type": "object", "description": "against the stored year, as storage keeps it: weekday "
                    "holidays and weekend working days only", "properties": {
                        "added_holidays": _DAYS, "removed_holidays": _DAYS,
                        "added_workdays": _DAYS, "removed_workdays": _DAYS}}}},
    "CalendarYearIn": {"type": "object", "required": ["holidays", "workdays"], "properties": {
        "holidays": {**_DAYS, "description": "public holidays; only weekdays change anything"},
        "workdays": {**_DAYS, "description": "make-up working days (调休); only weekend days change anything"},
        "source": {"type": "string", "maxLength": 100, "description": "where the dates come from (default: admin)"}}},
    "CalendarYear": {"type": "object", "properties": {
        "year": {"type": "integer"}, "holidays": _DAYS, "workdays": _DAYS,
        "source": {"type": "string", "nullable": True}, "known": {"type": "boolean"},
        "updated_at": {"type": "string", "format": "date-time", "nullable": True}}},
    "CalendarEdit": {"allOf": [doc.ref("CalendarYear"), {"type": "object", "properties": {
        "ignored": {"type": "array", "items": {"type": "string", "format": "date"},
                    "description": "listed dates that change nothing (holidays on weekends, workdays on weekdays)"},
        "recomputed_cases": {"type": "integer", "description": "open cases whose deadlines moved"}}}]},
})
