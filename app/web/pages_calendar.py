"""Admins: the working-day calendar (工作日历) — a year as twelve month grids, and entering it from the yearly
notice (国务院办公厅关于YYYY年部分节假日安排的通知): paste → parse → review the differences → save.

Saving goes through the same service as `PUT /api/v1/calendar/{year}` (calendar_edits.set_year: audited, running
cases' deadlines recomputed); the parse reads the notice with the API's own function and stores nothing.
"""
from __future__ import annotations

import calendar as monthcal
import re
from datetime import date

from flask import flash, redirect, render_template, request, url_for

from app import clock
from app.calendar import service as working_calendar
from app.errors import Invalid, TooLarge
from app.orgs.service import require_district_admin
from app.supervision import calendar_edits

from . import web
from .common import db, settings, signed_in
from .i18n import _, current_lang, translate_error

ADMIN = "admin"
_SPLIT_DATES = re.compile(r"[\s,，、;；]+")  # one date a line, but a pasted comma-separated list works too
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


@web.get("/calendar")
def calendar_page():
    with db().unit_of_work() as s:
        signed_in(s, ADMIN)
        raw = request.args.get("year")
        year = _year_of(raw) if raw is not None else _this_year()
        view = _view(s, year)
    return render_template("web/calendar.html", **view)


@web.post("/calendar/parse")
def calendar_parse():
    """解析: read the pasted notice and show it against what is stored; nothing is saved."""
    text = request.form.get("text") or ""
    status, parsed = 200, None
    with db().unit_of_work() as s:
        signed_in(s, ADMIN)
        year = _year_of(request.form.get("year"))
        try:
            parsed = working_calendar.read_notice(s, year, text)  # reads only: nothing to roll back on refusal
        except (Invalid, TooLarge) as exc:
            flash(_notice_error(exc, year), "error")
            status = exc.status
        # Echoed back for correction, but never more than the service would read, and never a NUL.
        view = _view(s, year, parsed=parsed, text=text[:working_calendar.MAX_NOTICE_CHARS].replace("\x00", ""))
    return render_template("web/calendar.html", **view), status


@web.post("/calendar/save")
def calendar_save():
    """保存: the two lists (from the parse or typed) replace the year, like the PUT API."""
    f = request.form
    lists = {"holidays": _dates_in(f.get("holidays")), "workdays": _dates_in(f.get("workdays"))}
    source = (f.get("source") or "").strip()
    year = None
    try:
        with db().unit_of_work() as s:
            user = signed_in(s, ADMIN)  # not an admin: the 403 page (Forbidden is not caught below)
            year = _year_of(f.get("year"))
            require_district_admin(user, "the working-day calendar")
            out = calendar_edits.set_year(s, settings(), user.username, year, lists["holidays"],
                                          lists["workdays"], source)
    except (Invalid, TooLarge) as exc:  # refused before anything was written; the unit of work rolled back
        if year is None:
            raise  # no year to show a form for: the 422 page
        flash(_edit_error(exc, year, lists), "error")
        with db().unit_of_work() as s:
            view = _view(s, year, editor={**lists, "source": source})
        return render_template("web/calendar.html", **view), exc.status
    flash(_("已保存 %(y)s 年的日历：%(n)s 个在办件的期限已按新日历重新计算。", y=year, n=out["recomputed_cases"]),
          "success")
    if out["ignored"]:
        flash(_("以下日期不改变计算（周末本来休息、工作日本来上班），未保存：%(d)s", d=", ".join(out["ignored"])),
              "info")
    return redirect(url_for("web.calendar_page", year=year))


# --- what the page shows ---------------------------------------------------------------------------------------
def _view(s, year: int, parsed: dict | None = None, text: str = "", editor: dict | None = None) -> dict:
    stored = working_calendar.get_year(s, year)
    known = working_calendar.known_years(s)
    this_year = _this_year()
    years = sorted(set(known) | {this_year, this_year + 1, year})
    if parsed is not None:  # the review: the grids show what saving would store, the changes marked
        ch = parsed["changes"]
        shown_off, shown_on = set(parsed["holidays"]), set(parsed["workdays"])
        changed = set(ch["added_holidays"] + ch["removed_holidays"] + ch["added_workdays"] + ch["removed_workdays"])
        editor = {"holidays": [d for d in parsed["holidays"] if date.fromisoformat(d).weekday() < 5],
                  "workdays": [d for d in parsed["workdays"] if date.fromisoformat(d).weekday() >= 5],
                  "source": _("国务院办公厅关于%(y)s年部分节假日安排的通知", y=year)}
    else:
        shown_off, shown_on, changed = set(stored["holidays"]), set(stored["workdays"]), set()
        editor = editor or {"holidays": stored["holidays"], "workdays": stored["workdays"], "source": ""}
    return {"year": year, "stored": stored, "years": years, "known_years": set(known), "this_year": this_year,
            "months": _month_grids(year, shown_off, shown_on, changed), "weekdays": _weekday_names(),
            "parsed": parsed, "text": text, "editor": editor,
            "problems": [{**p, "said": _problem_text(p)} for p in (parsed or {}).get("problems", [])],
            "max_chars": working_calendar.MAX_NOTICE_CHARS}


def _month_grids(year: int, holidays: set[str], workdays: set[str], changed: set[str]) -> list[dict]:
    """Twelve months, Monday first (as Chinese calendars print them): weeks of cells, None outside the month."""
    weeks_of = monthcal.Calendar(firstweekday=0).monthdatescalendar
    months = []
    for month in range(1, 13):
        weeks = []
        for week in weeks_of(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append(None)
                    continue
                iso = day.isoformat()
                kind = ("holiday" if iso in holidays else "workday" if iso in workdays
                        else "weekend" if day.weekday() >= 5 else "normal")
                cells.append({"day": day.day, "iso": iso, "kind": kind, "changed": iso in changed})
            weeks.append(cells)
        months.append({"month": month, "name": _MONTHS_EN[month - 1] if current_lang() == "en" else f"{month}月",
                       "weeks": weeks})
    return months


def _weekday_names() -> list[str]:
    return [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")]


def _problem_text(p: dict) -> str:
    """The parser's problem in the page's language (its `message` is the API's English)."""
    v = p.get("params") or {}
    weekday = {"周一": _("周一"), "周二": _("周二"), "周三": _("周三"), "周四": _("周四"), "周五": _("周五"),
               "周六": _("周六"), "周日": _("周日")}
    texts = {
        "nothing_found": lambda: _("没有找到放假或上班的安排。"),
        "not_understood": lambda: (_("无法理解其中的日期：%(d)s", d=v["dates"]) if v.get("dates")
                                   else _("有放假或上班的安排，但没有写明日期（应写作“M月D日”）。")),
        "no_dates": lambda: _("“%(name)s”没有读出任何日期。", name=v.get("name") or "?"),
        "no_month": lambda: _("“%(d)s”没有写月份。", d=v["date"]),
        "bad_date": lambda: _("“%(d)s”不是 %(y)s 年的有效日期。", d=v["date"], y=v["year"]),
        "reversed_span": lambda: _("“%(s)s”结束早于开始；如从上一年开始，请写明年份。", s=v["span"]),
        "span_too_long": lambda: _("“%(s)s”长达 %(n)s 天，不像是节假日。", s=v["span"], n=v["n"]),
        "count_mismatch": lambda: _("通知写的是共 %(said)s 天，按日期算是 %(found)s 天。", said=v["said"],
                                    found=v["found"]),
        "weekday_mismatch": lambda: _("“%(d)s”标注为%(said)s，实际是%(actual)s。", d=v["date"],
                                      said=weekday.get(v["said"], v["said"]),
                                      actual=weekday.get(v["actual"], v["actual"])),
        "outside_year": lambda: _("%(days)s 不在 %(y)s 年，未计入（请在该年的日历中录入）。", days=v["days"],
                                  y=v["year"]),
        "holiday_and_workday": lambda: _("%(d)s 既被列为放假又被列为上班。", d=v["day"]),
        "workday_on_weekday": lambda: _("%(d)s 是工作日，本来就上班。", d=v["day"]),
    }
    try:
        return texts[p["code"]]()
    except KeyError:
        return p.get("message", "")


# --- reading the forms ------------------------------------------------------------------------------------------
def _this_year() -> int:
    return clock.now().astimezone(settings().tz).year


def _year_of(raw) -> int:
    """The year a form or link names: a whole number in the service's range, else the 422 page."""
    try:
        year = int((raw or "").strip())
    except ValueError:
        raise Invalid("year must be a whole number", details=[{"field": "year"}]) from None
    return working_calendar.check_year(year)


def _dates_in(raw) -> list[str]:
    return [part for part in _SPLIT_DATES.split(raw or "") if part]


def _notice_error(exc, year: int) -> str:
    if exc.code == "year_mismatch":
        return _("粘贴的是 %(t)s 年的通知，当前选择的是 %(y)s 年。", t=exc.details[0]["text_year"], y=year)
    if isinstance(exc, TooLarge):
        return _("通知文本超过 %(n)s 字，请只粘贴通知本身。", n=working_calendar.MAX_NOTICE_CHARS)
    return _("请粘贴通知的文字（不能为空，也不能含有控制字符）。")


def _edit_error(exc, year: int, lists: dict) -> str:
    detail = exc.details[0] if exc.details and isinstance(exc.details[0], dict) else {}
    names = {"holidays": _("放假日期"), "workdays": _("调休上班日期")}
    field = detail.get("field")
    if field in lists and isinstance(detail.get("index"), int) and detail["index"] < len(lists[field]):
        return _("%(list)s第 %(n)s 个“%(v)s”不是 %(y)s 年的日期（YYYY-MM-DD）。", list=names[field],
                 n=detail["index"] + 1, v=lists[field][detail["index"]][:20], y=year)
    if field == "holidays" and detail.get("value"):
        return _("%(d)s 不能既放假又上班。", d=detail["value"])
    if field in lists:
        return _("%(list)s最多 %(n)s 个。", list=names[field], n=working_calendar.MAX_ENTRIES)
    if field == "source":
        return _("请填写日期的来源（不超过 100 字）。")
    return translate_error(exc)
