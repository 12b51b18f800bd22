"""What each kind of message says: short like a government SMS, with the case number; Chinese and English.

The texts are public (the progress page shows them), so they hold only what the case actions pass in —
never the applicant's name, ID number or phone — and the query code only as SECRET_MASK: the real code
is merged into the SMS alone (app/messages/sms.py). A misspelt kind or parameter is a programming error
(ValueError); what people typed (reasons, item names) is cleaned of control characters and used as typed.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

SECRET_MASK = "********"  # where the secret stands in the stored text; the SMS gets the real value

# Clock stops (停止计时) by the case's suspension kind; a caller may also pass a Chinese label of its own.
STOP_LABELS = {"supplement": ("补正材料", "supplementing materials"), "hearing": ("听证", "a hearing"),
               "testing": ("检验检测", "testing"), "inspection": ("现场勘查", "a site inspection"),
               "appraisal": ("鉴定", "an appraisal"), "expert_review": ("专家评审", "an expert review"),
               "other": ("其他原因", "another reason")}
_BY_CHINESE = {zh: (zh, en) for zh, en in STOP_LABELS.values()}
UNITS = {"working": ("个工作日", "working days"), "natural": ("日", "days")}
REMEDY = ("如不服，可依法申请行政复议或者提起行政诉讼。",
          "If you disagree, you may apply for administrative reconsideration or bring an administrative lawsuit.")

_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")  # NUL, line breaks, tabs…: one space (PostgreSQL refuses NUL)
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # half a character: no database or gateway can store it


def clean(value) -> str:
    """Typed text fit for one SMS line: controls and runs of white space become one space; the trailing
    full stop goes (the template puts its own)."""
    text = _SURROGATE.sub("", _CONTROL.sub(" ", str(value))).strip()
    return text.rstrip("。．.，,；;、 ")


class Params:
    """A kind's parameters, checked: a missing or unknown one is the caller's bug."""

    def __init__(self, kind: str, raw: dict, allowed: set[str], tz: ZoneInfo):
        unknown = set(raw) - allowed
        if unknown:
            raise ValueError(f"message kind {kind!r} takes no parameter {', '.join(sorted(unknown))}")
        self.kind, self.raw, self.tz = kind, raw, tz

    def text(self, name: str, required: bool = True) -> str:
        value = clean(self.raw.get(name) or "")
        if required and not value:
            raise ValueError(f"message kind {self.kind!r} needs the parameter {name!r}")
        return value

    def texts(self, name: str) -> list[str]:
        values = [clean(v) for v in self.raw.get(name) or []]
        if not any(values):
            raise ValueError(f"message kind {self.kind!r} needs a non-empty list {name!r}")
        return [v for v in values if v]

    def days(self, name: str, required: bool = False) -> int | None:
        value = self.raw.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"message kind {self.kind!r} needs {name!r} as a whole number of days")
        return value

    def date(self, name: str) -> date | None:
        """A date, or a datetime read as its day in the district's time zone (what a deadline's day is)."""
        value = self.raw.get(name)
        if isinstance(value, datetime):
            return value.astimezone(self.tz).date()
        if value is None or isinstance(value, date):
            return value
        raise ValueError(f"message kind {self.kind!r} needs {name!r} as a date or None")


def _zh_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _accepted(no: str, p: Params, secret: bool) -> tuple[str, str]:
    item, due = p.text("item_name"), p.date("promised_due")
    zh = f"您申请的{item}已受理，办件编号{no}"
    en = f"Your application for {item} has been accepted: case number {no}"
    if secret:
        zh, en = zh + f"，查询码{SECRET_MASK}", en + f", query code {SECRET_MASK}"
    if due:
        zh, en = zh + f"，承诺{_zh_date(due)}前办结", en + f", to be decided by {due.isoformat()}"
    return (zh + "，可在网上办事大厅查询进度。",
            en + ". Follow its progress in the online hall.")


def _received(no: str, p: Params, secret: bool) -> tuple[str, str]:
    item = p.text("item_name")
    code_zh, code_en = (f"，查询码{SECRET_MASK}", f", query code {SECRET_MASK}") if secret else ("", "")
    return (f"您申请的{item}已收到，办件编号{no}{code_zh}，正在审查是否受理，结果将另行告知。",
            f"Your application for {item} has been received, case number {no}{code_en}. "
            "We are checking whether it can be accepted and will tell you.")


def _supplement(no: str, p: Params, secret: bool) -> tuple[str, str]:
    missing, days = p.texts("missing"), p.days("expected_days")
    zh = f"您的办件{no}需补正材料，现一次性告知：{'、'.join(missing)}。"
    en = f"Case {no}: please supply these materials (the complete list): {'; '.join(missing)}."
    if days:
        zh, en = zh + f"请在{days}个工作日内补正，", en + f" Please supply them within {days} working days;"
    else:
        zh, en = zh + "请尽快补正，", en + " Please supply them soon;"
    return zh + "补正期间不计入办理时限。", en + " the time limit is paused meanwhile."


def _clock_stopped(no: str, p: Params, secret: bool) -> tuple[str, str]:
    label = p.text("label")
    zh_label, en_label = STOP_LABELS.get(label) or _BY_CHINESE.get(label) or (label, label)
    reason, days = p.text("reason"), p.days("expected_days")
    zh = f"您的办件{no}因{zh_label}暂停计时：{reason}。"
    en = f"Case {no}: the clock is stopped for {en_label}: {reason}."
    if days:
        return (zh + f"预计需{days}个工作日，不计入办理时限。",
                en + f" It should take {days} working days, which do not count towards the time limit.")
    return zh + "所需时间不计入办理时限。", en + " The time it takes does not count towards the time limit."


def _clock_restarted(no: str, p: Params, secret: bool) -> tuple[str, str]:
    due = p.date("promised_due")
    if due is None:
        return f"您的办件{no}已恢复计时。", f"Case {no}: the clock runs again."
    return (f"您的办件{no}已恢复计时，承诺{_zh_date(due)}前办结。",
            f"Case {no}: the clock runs again; to be decided by {due.isoformat()}.")


def _extended(no: str, p: Params, secret: bool) -> tuple[str, str]:
    days, unit = p.days("days", required=True), p.text("unit", required=False) or "working"
    if unit not in UNITS:
        raise ValueError(f"message kind 'extended' needs unit 'working' or 'natural', not {unit!r}")
    reason, due = p.text("reason"), p.date("statutory_due")
    zh = f"您的办件{no}经批准延长办理期限{days}{UNITS[unit][0]}，理由：{reason}"
    en = f"Case {no} has been extended by {days} {UNITS[unit][1]}: {reason}"
    if due:
        zh, en = zh + f"，法定办结期限延至{_zh_date(due)}", en + f". The statutory time limit is now {due.isoformat()}"
    return zh + "。", en + "."


def _decided(no: str, p: Params, secret: bool) -> tuple[str, str]:
    outcome, summary = p.text("outcome"), p.text("summary", required=False)
    zh, en = f"您的办件{no}已作出决定：{outcome}。", f"Case {no}: a decision has been made: {outcome}."
    if summary:
        zh, en = zh + f"{summary}。", en + f" {summary}."
    return zh, en


def _with_basis(zh: str, en: str, p: Params) -> tuple[str, str]:
    """The reason, the legal basis when given (依据), and the remedies (复议、诉讼) of a decision against them."""
    zh, en = zh + f"，理由：{p.text('reason')}", en + f" Reason: {p.text('reason')}."
    basis = p.text("legal_basis", required=False)
    if basis:
        zh, en = zh + f"，依据：{basis}", en + f" Legal basis: {basis}."
    return zh + "。" + REMEDY[0], en + " " + REMEDY[1]


def _refused(no: str, p: Params, secret: bool) -> tuple[str, str]:
    return _with_basis(f"您的申请（办件编号{no}）不予受理", f"Your application (case {no}) is not accepted.", p)


def _terminated(no: str, p: Params, secret: bool) -> tuple[str, str]:
    return _with_basis(f"您的办件{no}已终止办理", f"Case {no} has been terminated.", p)


def _withdrawn(no: str, p: Params, secret: bool) -> tuple[str, str]:
    reason = p.text("reason", required=False)
    if not reason:
        return f"您的办件{no}已撤回。", f"Case {no} has been withdrawn."
    return f"您的办件{no}已撤回，原因：{reason}。", f"Case {no} has been withdrawn: {reason}."


def _completed(no: str, p: Params, secret: bool) -> tuple[str, str]:
    item = p.text("item_name")
    return (f"您申请的{item}已办结，办件编号{no}，欢迎在网上办事大厅评价。",
            f"Your application for {item} (case {no}) is complete. You are welcome to rate the service in the "
            "online hall.")


def _step_notice(no: str, p: Params, secret: bool) -> tuple[str, str]:
    """What the flow itself tells (a service task of topic sunlight.tell-applicant): the designer's words."""
    said = p.text("text")
    return f"您的办件{no}：{said}。", f"Case {no}: {said}."


TAKES_SECRET = {"accepted", "received"}  # the kinds that have a place for the query code (the first message)
Builder = Callable[[str, Params, bool], tuple[str, str]]
# kind -> (the parameters it takes, how it is said)
KINDS: dict[str, tuple[set[str], Builder]] = {
    "accepted": ({"item_name", "promised_due"}, _accepted),
    "received": ({"item_name"}, _received),
    "supplement": ({"missing", "expected_days"}, _supplement),
    "clock_stopped": ({"label", "reason", "expected_days"}, _clock_stopped),
    "clock_restarted": ({"promised_due"}, _clock_restarted),
    "extended": ({"days", "unit", "reason", "statutory_due"}, _extended),
    "decided": ({"outcome", "summary"}, _decided),
    "refused": ({"reason", "legal_basis"}, _refused),
    "withdrawn": ({"reason"}, _withdrawn),
    "terminated": ({"reason", "legal_basis"}, _terminated),
    "completed": ({"item_name"}, _completed),
    "step_notice": ({"text"}, _step_notice),
}


def compose(kind: str, case_no: str, params: dict, tz: ZoneInfo, with_secret: bool) -> tuple[str, str]:
    """(Chinese, English) for a message of `kind`; with_secret puts SECRET_MASK where the query code goes."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r} (one of {', '.join(KINDS)})")
    if with_secret and kind not in TAKES_SECRET:
        raise ValueError(f"message kind {kind!r} has no place for a secret")
    allowed, build = KINDS[kind]
    return build(case_no, Params(kind, dict(params or {}), allowed, tz), with_secret)
