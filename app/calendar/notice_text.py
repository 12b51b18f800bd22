"""Reading the yearly holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知) as an admin pastes it.

The State Council General Office publishes next year's holidays and make-up working days (调休) each autumn,
one line per festival:

    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。

This module turns such text into dates for an admin to review; nothing here touches the database. It reads one
sentence at a time with plain regular expressions and never guesses: whatever looks like an arrangement but
cannot be read with confidence, and every cross-check that fails ("共N天" against the span, the weekday written
in brackets against the date), is reported under `problems` for the admin to look at.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

MAX_SPAN_DAYS = 31  # no public holiday lasts longer: a longer span is a typo, not a calendar
WEEKDAY_NAMES = "一二三四五六日"
_ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # not locale's

# NFKC turns full-width punctuation and digits into their half-width forms (（ → (, ： → :, ， → ,, １ → 1),
# so one set of patterns reads both; 、 and 。 have no half-width form and stay as they are.
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_SENTENCE_END = re.compile(r"[。;!?]")
# A whole notice pasted as one line still has a heading after each full stop: give each its own line.
_HEADING_AFTER_STOP = re.compile(r"(?<=[。;])\s*(?=(?:[一二三四五六七八九十]+|\d{1,2})\s*、)")
_NUMBERED_HEADING = re.compile(r"^\s*(?:(?:[一二三四五六七八九十]+|\d{1,2})\s*[、.]|\([一二三四五六七八九十\d]+\))\s*"
                               r"(?P<name>[^:\d()]{1,20}?)\s*:\s*")
_FESTIVAL = "元旦|春节|清明|劳动节|五一|端午|中秋|国庆"
_NAMED_HEADING = re.compile(rf"^\s*(?P<name>[^:\d()]{{0,16}}(?:{_FESTIVAL})[^:\d()]{{0,16}}?)\s*:\s*")
# The year: the title (关于2026年部分节假日安排的通知) or the opening sentence (现将2026年元旦、春节……).
_TITLE_YEAR = re.compile(r"关于\s*(\d{4})\s*年\s*(?:部分)?节假日")
_INTRO_YEAR = re.compile(r"现将\s*(\d{4})\s*年")
# One pass over a sentence finds these, in order: dates (with what the brackets after them say), the words
# joining dates into spans (至) or lists (、), and the two verbs that give a group of dates its meaning.
_TOKEN = re.compile(
    r"(?P<date>(?<!\d)(?:(?P<y>\d{4})\s*年\s*)?(?:(?P<m>\d{1,2})\s*月\s*)?(?P<d>\d{1,2})\s*日)\s*(?:\((?P<note>[^()]*)\))?"
    r"|(?P<range>至|到|~|-|—|–)"
    r"|(?P<list>、|和|及)"
    r"|(?P<off>放假|休假|休息)"
    r"|(?P<on>(?:照常|正常)?上班)")
_NUMBER = r"(\d{1,3}|[一二两三四五六七八九十]{1,3})"
_COUNT_AFTER_VERB = re.compile(rf"^\s*{_NUMBER}\s*天")  # 放假1天
_COUNT_TOTAL = re.compile(rf"共\s*{_NUMBER}\s*天")  # ……放假调休，共8天
_ANY_COUNT = re.compile(rf"{_NUMBER}\s*天")
_WEEKDAY_NOTE = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
# A date in a sentence without any of these words (the notice's own date at the bottom) is not an arrangement.
_ARRANGEMENT_WORD = re.compile(r"假|休|班|节|元旦")


@dataclass
class Problem:
    code: str  # no_year, year_mismatch, nothing_found, not_understood, no_dates, no_month, bad_date, reversed_span,
    #            span_too_long, count_mismatch, weekday_mismatch, outside_year, holiday_and_workday,
    #            workday_on_weekday
    text: str  # the sentence (or line) it is about, as read (half-width punctuation)
    message: str  # in English; the pages show their own words from `code` and `params`
    params: dict = field(default_factory=dict)


@dataclass
class Entry:
    """One festival's lines: 国庆节、中秋节 with its days off and its make-up working days."""
    name: str | None  # None for arrangement lines before any festival heading
    holidays: list[str] = field(default_factory=list)
    workdays: list[str] = field(default_factory=list)
    source: str = ""  # the line(s) it was read from (punctuation made half-width)


@dataclass
class NoticeParse:
    year: int | None
    text_year: int | None  # the year the text names itself (title or opening sentence), if it does
    holidays: list[str] = field(default_factory=list)  # every day of every 放假 span, weekends included
    workdays: list[str] = field(default_factory=list)  # every 上班 day
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def parse_notice(text: str, year: int | None = None) -> NoticeParse:
    """Read the notice's arrangements for `year` (or the year its title names). Never raises on odd text."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text or ""))
    text_year = find_year(text)
    result = NoticeParse(year=year if year is not None else text_year, text_year=text_year)
    if result.year is None:
        result.problems.append(Problem("no_year", "", "no year given and none found in the text "
                                                      "(国务院办公厅关于YYYY年部分节假日安排的通知)"))
        return result
    if text_year is not None and text_year != result.year:
        result.problems.append(Problem("year_mismatch", "", f"the text is the notice for {text_year}, not {year}",
                                       {"text_year": text_year, "year": year}))
    entries = _festivals(text, result.year, result.problems)
    off: set[date] = set()
    on: set[date] = set()
    for e in entries:
        if not (e.off or e.on):
            result.problems.append(Problem("no_dates", "\n".join(e.lines), f"no dates could be read for {e.name}",
                                           {"name": e.name or ""}))
        off |= e.off
        on |= e.on
        result.entries.append(Entry(e.name, _iso(e.off), _iso(e.on), "\n".join(e.lines)))
    if not entries:
        result.problems.append(Problem("nothing_found", "", "no 放假 or 上班 arrangement was found in the text"))
    for day in sorted(off & on):
        result.problems.append(Problem("holiday_and_workday", "", f"{day} is listed both as a holiday and as a "
                                       "working day", {"day": day.isoformat()}))
    result.holidays, result.workdays = _iso(off), _iso(on)
    return result


def find_year(text: str) -> int | None:
    """The year of the notice as its title (or its opening sentence) says; None when it says none."""
    found = _TITLE_YEAR.search(text) or _INTRO_YEAR.search(text)
    return int(found.group(1)) if found else None


def changes_against(parsed: NoticeParse, stored_holidays, stored_workdays) -> dict:
    """What saving the parsed dates would change, as storage keeps them: weekday holidays and weekend workdays
    only (a Saturday off or a Wednesday at work is the rule anyway, so it is never stored)."""
    new_off = {d for d in parsed.holidays if date.fromisoformat(d).weekday() < 5}
    new_on = {d for d in parsed.workdays if date.fromisoformat(d).weekday() >= 5}
    old_off, old_on = set(stored_holidays), set(stored_workdays)
    return {"added_holidays": sorted(new_off - old_off), "removed_holidays": sorted(old_off - new_off),
            "added_workdays": sorted(new_on - old_on), "removed_workdays": sorted(old_on - new_on)}


# --- one sentence --------------------------------------------------------------------------------------------
@dataclass
class _Lines:
    name: str | None
    lines: list[str] = field(default_factory=list)
    off: set[date] = field(default_factory=set)
    on: set[date] = field(default_factory=set)


@dataclass
class _Date:
    year: int | None  # written in the text, else None (the notice's year)
    month: int | None
    day: int
    note: str  # what the brackets after it say: 农历除夕、周二
    raw: str


@dataclass
class _Group:
    """Dates joined by 至 / 、 and, when a verb follows straight away, what they are (off: 放假, on: 上班)."""
    parts: list = field(default_factory=list)  # _Date, "range", "list", alternating, starting with a date
    kind: str | None = None
    verb_end: int = 0
    start: int = 0


def _festivals(text: str, year: int, problems: list[Problem]) -> list[_Lines]:
    """The text's arrangement lines grouped under their festival heading (一、元旦：…); prose is skipped."""
    entry: _Lines | None = None
    entries: list[_Lines] = []
    for line in _HEADING_AFTER_STOP.sub("\n", text).splitlines():
        line = line.strip()
        if not line:
            continue
        heading = _NUMBERED_HEADING.match(line) or _NAMED_HEADING.match(line)
        if heading:
            entry = _Lines(heading.group("name").strip())
            entries.append(entry)
        body = line[heading.end():] if heading else line
        found = [_read_sentence(sentence.strip(), year, problems)
                 for sentence in _SENTENCE_END.split(body) if sentence.strip()]
        days_off = {d for f in found for d in f[0]}
        days_on = {d for f in found for d in f[1]}
        if not (heading or days_off or days_on):
            continue  # prose: the opening, the closing paragraph, the signature
        if entry is None:
            entry = _Lines(None)  # arrangements before any heading still count
            entries.append(entry)
        entry.lines.append(line)  # a line without a heading (a wrapped 上班 sentence) is the festival's above
        entry.off |= days_off
        entry.on |= days_on
    return entries


def _read_sentence(sentence: str, year: int, problems: list[Problem]) -> tuple[set[date], set[date]]:
    groups, loose = _groups(sentence)
    off: set[date] = set()
    on: set[date] = set()
    arrangement = bool(_ARRANGEMENT_WORD.search(sentence))
    if loose and arrangement:
        problems.append(Problem("not_understood", sentence, "dates that are not part of a 放假 or 上班 "
                                "arrangement: " + ", ".join(d.raw for d in loose),
                                {"dates": "、".join(d.raw for d in loose)}))
    # 春节放假七天: an arrangement all right, but without its dates (the opening sentence names no count).
    if not groups and not loose and _ANY_COUNT.search(sentence) and re.search("放假|上班", sentence):
        problems.append(Problem("not_understood", sentence, "an arrangement without dates (write them as M月D日)"))
    for i, group in enumerate(groups):
        days = _days_of(group, year, sentence, problems)
        if days is None:
            continue
        if group.kind == "off":
            end = groups[i + 1].start if i + 1 < len(groups) else len(sentence)
            _check_count(sentence[group.verb_end:end], days, sentence, problems)
        outside = sorted(d for d in days if d.year != year)
        if outside:
            problems.append(Problem("outside_year", sentence, f"{', '.join(map(str, outside))} lie outside {year} "
                                    "and were left out (enter them with their own year)",
                                    {"days": "、".join(map(str, outside)), "year": year}))
        days = [d for d in days if d.year == year]
        if group.kind == "on":
            for d in days:
                if d.weekday() < 5:
                    problems.append(Problem("workday_on_weekday", sentence, f"{d} is a weekday: a working day "
                                            "anyway", {"day": d.isoformat()}))
        (off if group.kind == "off" else on).update(days)
    return off, on


def _groups(sentence: str) -> tuple[list[_Group], list[_Date]]:
    """The sentence's date groups followed by their verb, and the dates that belong to none ("loose")."""
    groups: list[_Group] = []
    loose: list[_Date] = []
    pending: _Group | None = None
    month = None  # "至8日" takes the month of the date before it in the same sentence
    last_end = 0

    def drop():
        nonlocal pending
        if pending is not None:
            loose.extend(p for p in pending.parts if isinstance(p, _Date))
        pending = None

    for tok in _TOKEN.finditer(sentence):
        adjacent = not sentence[last_end:tok.start()].strip()
        last_end = tok.end()
        if tok.group("date"):
            month = int(tok.group("m")) if tok.group("m") else month
            d = _Date(int(tok.group("y")) if tok.group("y") else None, month, int(tok.group("d")),
                      tok.group("note") or "", tok.group("date").replace(" ", ""))
            if pending is not None and adjacent and isinstance(pending.parts[-1], str):
                pending.parts.append(d)
            else:
                drop()
                pending = _Group(parts=[d], start=tok.start())
        elif tok.group("range") or tok.group("list"):
            if pending is not None and adjacent and isinstance(pending.parts[-1], _Date):
                pending.parts.append("range" if tok.group("range") else "list")
            elif pending is not None and isinstance(pending.parts[-1], str):
                drop()  # 1日至至3日, 1日、至3日: not something to guess at
        else:  # a verb
            if pending is not None and adjacent and isinstance(pending.parts[-1], _Date):
                pending.kind, pending.verb_end = ("off" if tok.group("off") else "on"), tok.end()
                groups.append(pending)
                pending = None
            else:
                drop()
    drop()
    return groups, loose


def _days_of(group: _Group, year: int, sentence: str, problems: list[Problem]) -> list[date] | None:
    """Every day the group names, in order; None (with the problem said) when it cannot be read."""
    spans: list[tuple[_Date, _Date]] = []
    parts = group.parts
    i = 0
    while i < len(parts):
        if i + 2 < len(parts) and parts[i + 1] == "range":
            spans.append((parts[i], parts[i + 2]))
            i += 3
        else:
            spans.append((parts[i], parts[i]))
            i += 1
        if i < len(parts) and parts[i] != "list":  # 1日至3日至5日
            problems.append(Problem("not_understood", sentence, "a span joined to another span with 至"))
            return None
        i += 1
    days: list[date] = []
    for first, last in spans:
        # The end of a span written with its year at the start (2024年12月31日至1月1日) is in that year, or the
        # next one when it would otherwise come first; without any written year both ends are in the notice's.
        end_year = last.year or first.year or year
        turns_over = (last.month or 13, last.day) < (first.month or 0, first.day)
        if last.year is None and first.year is not None and turns_over:
            end_year += 1
        start = _resolve(first, first.year or year, sentence, problems)
        end = start if last is first else _resolve(last, end_year, sentence, problems)
        if start is None or end is None:
            return None
        if end < start:
            problems.append(Problem("reversed_span", sentence, f"the span {first.raw}–{last.raw} ends before it "
                                    "starts (write the year if it begins in the year before)",
                                    {"span": f"{first.raw}至{last.raw}"}))
            return None
        length = (end - start).days + 1
        if length > MAX_SPAN_DAYS:
            problems.append(Problem("span_too_long", sentence, f"the span {first.raw}–{last.raw} is {length} days "
                                    f"long; no holiday lasts more than {MAX_SPAN_DAYS}",
                                    {"span": f"{first.raw}至{last.raw}", "n": length}))
            return None
        days.extend(start + timedelta(days=k) for k in range(length))
    return days


def _resolve(d: _Date, year: int, sentence: str, problems: list[Problem]) -> date | None:
    if d.month is None:
        problems.append(Problem("no_month", sentence, f"{d.raw}: which month?", {"date": d.raw}))
        return None
    try:
        day = date(year, d.month, d.day)
    except ValueError:
        problems.append(Problem("bad_date", sentence, f"{d.raw} is not a date in {year}",
                                {"date": d.raw, "year": year}))
        return None
    said = _WEEKDAY_NOTE.search(d.note)
    if said:
        weekday = WEEKDAY_NAMES.index("日" if said.group(1) == "天" else said.group(1))  # 周日 = 周天 = 星期日
        if weekday != day.weekday():
            problems.append(Problem("weekday_mismatch", sentence, f"{d.raw} ({day}) is a "
                                    f"{_ENGLISH_DAYS[day.weekday()]}, the text says {_ENGLISH_DAYS[weekday]}",
                                    {"date": d.raw, "said": f"周{WEEKDAY_NAMES[weekday]}",
                                     "actual": f"周{WEEKDAY_NAMES[day.weekday()]}"}))
    return day


def _check_count(tail: str, days: list[date], sentence: str, problems: list[Problem]) -> None:
    """放假1天 / 共8天 after a span must agree with the span itself."""
    said = _COUNT_AFTER_VERB.match(tail) or _COUNT_TOTAL.search(tail)
    if said is None:
        return
    count = _number(said.group(1))
    if count != len(days):
        problems.append(Problem("count_mismatch", sentence, f"the text says {count} days, the dates make "
                                f"{len(days)}", {"said": count, "found": len(days)}))


def _number(text: str) -> int:
    """8 or 八 or 十一 (counts of days are small: at most two Chinese digits around 十)."""
    if text.isdigit():
        return int(text)
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    digits["两"] = 2
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (digits.get(tens, 1) if tens else 1) * 10 + (digits.get(ones, 0) if ones else 0)
    return digits.get(text, 0)


def _iso(days) -> list[str]:
    return [d.isoformat() for d in sorted(days)]
