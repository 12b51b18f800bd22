"""The legal diff in the legal office's words (环节, 时限, 条件…), the BPMN term kept beside it in small print.

`app/definitions/diff.py` reports changes in BPMN's terms (userTask, timeDuration, conditionExpression) because the
API's clients are tools; a reviewer reads 办理环节 and 72 小时. Presentation only: nothing here changes a value.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .i18n import LANGS, _, current_lang

# Built per call with `_()` literals (the i18n test finds every literal; a reviewer's page is small).
def _elements() -> dict:
    task = _("办理环节")
    sub = _("子流程")
    throw = _("发出事件")
    return {
        "task": task, "userTask": task, "manualTask": task, "scriptTask": _("自动处理环节"),
        "serviceTask": _("外部系统环节"), "sendTask": _("发送消息环节"), "receiveTask": _("等待消息环节"),
        "businessRuleTask": _("决策表环节"), "callActivity": _("调用共用流程"), "subProcess": sub,
        "adHocSubProcess": sub, "transaction": sub, "startEvent": _("开始"), "endEvent": _("结束"),
        "boundaryEvent": _("环节上的事件（时限等）"), "intermediateCatchEvent": _("等待"),
        "intermediateThrowEvent": throw, "implicitThrowEvent": throw, "exclusiveGateway": _("条件分支"),
        "inclusiveGateway": _("多条件分支"), "parallelGateway": _("并行分支"), "eventBasedGateway": _("事件分支"),
        "complexGateway": _("复杂分支"), "sequenceFlow": _("流转线"), "messageFlow": _("消息线"),
        "lane": _("办理岗位（泳道）"), "process": _("流程"), "participant": _("参与方"),
    }


def _fields() -> dict:
    return {
        "type": _("环节类型"), "name": _("名称"), "lane": _("办理岗位"), "parent": _("所属"), "source": _("从"),
        "target": _("到"), "default": _("默认去向"), "condition": _("条件"), "trigger": _("触发方式"),
        "timer": _("时限"), "interrupting": _("到时是否中止环节"), "attached_to": _("所在环节"),
        "script": _("自动处理规则"), "called_element": _("调用的共用流程"), "loop": _("多人办理（会签）"),
        "process": _("流程"), "executable": _("可执行"), "documentation": _("说明"),
    }


def _timer_kinds() -> dict:
    return {"timeDuration": _("期限"), "timeDate": _("到期时间"), "timeCycle": _("周期")}


def _loops() -> dict:
    return {"loop": _("循环办理"), "sequential multi-instance": _("依次会签"), "parallel multi-instance": _("同时会签")}


_YES_NO_FIELDS = ("default", "interrupting", "executable")


@lru_cache(maxsize=len(LANGS))
def _tables(lang: str) -> dict[str, dict]:
    """Every table in `lang` (the current one: `_` reads it), built once per language like i18n.label's,
    not once per row of a long diff."""
    return {"elements": _elements(), "fields": _fields(), "loops": _loops(), "timers": _timer_kinds()}


def _table(name: str) -> dict:
    return _tables(current_lang())[name]
_DURATION = re.compile(r"^P(?:(?P<D>\d+)D)?(?:T(?:(?P<H>\d+)H)?(?:(?P<M>\d+)M)?)?$")


def describe(change: dict) -> dict:
    """One row of the diff with words for the element, the field and both values (the raw term kept)."""
    field = change.get("field")
    return {**change, "element_word": _table("elements").get(change.get("element_type")),
            "field_word": _table("fields").get(field),
            "old_word": value_words(field, change.get("old")), "new_word": value_words(field, change.get("new"))}


def value_words(field: str | None, value: str | None) -> str | None:
    """A value as a reviewer reads it; None when the raw value already reads well (shown as it is)."""
    if value is None:
        return None
    if field in _YES_NO_FIELDS and value in ("true", "false"):
        return _("是") if value == "true" else _("否")
    if field == "type":
        return _table("elements").get(value)
    if field == "loop":
        return _table("loops").get(value)
    if field == "timer":
        return "; ".join(_timer_words(part.strip()) for part in value.split(";"))
    return None


def _timer_words(timer: str) -> str:
    """'timeDuration: PT72H' → '期限 72 小时'; a value it cannot read is shown as written."""
    kind, _sep, amount = timer.partition(":")
    amount = amount.strip()
    label = _table("timers").get(kind, kind)
    return f"{label} {duration_words(amount) or amount}".strip()


def duration_words(text: str) -> str | None:
    """ISO 8601 days/hours/minutes in words ('P5D' → '5 天'); None for anything else (dates, cycles, expressions)."""
    match = _DURATION.match(text or "")
    if not match or not any(match.groupdict().values()):
        return None
    units = (("D", _("天")), ("H", _("小时")), ("M", _("分钟")))
    return " ".join(f"{match[key]} {word}" for key, word in units if match[key])
