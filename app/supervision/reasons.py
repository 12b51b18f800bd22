"""Why a notice was raised, as a message key and its parameters.

The key is the Chinese sentence with `%(name)s` placeholders (the pages' translation table is keyed by the
Chinese text), so a notice is stored once and every page shows it in the reader's language; the rendered
Chinese sentence is kept beside it for the API, the mail and notices from before keys existed.
Parameters are data (step names, numbers, order numbers), shown as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reason:
    key: str
    params: dict = field(default_factory=dict)

    @classmethod
    def stored(cls, text: str, key: str | None, params: dict | None) -> "Reason":
        """A notice's reason as stored: its key, or (a notice from before keys) the sentence itself."""
        return cls(key, params or {}) if key else cls(text)

    def message(self) -> dict:
        """For the API and the pages: {key, params}."""
        return {"key": self.key, "params": self.params}

    def text(self) -> str:
        """The Chinese sentence (the key filled in)."""
        return self.key % self.params if self.params else self.key


DEADLINE = {  # the case's two clocks: pre-warning, yellow card, red card
    "warning": "即将超过承诺时限（预警）",
    "yellow": "已超过承诺时限（黄牌）",
    "red": "已超过法定时限（红牌）",
}
STEP_TIMER = "环节“%(step)s”已超过时限（%(timer)s）"
ORDER_OVERDUE = "督办 %(order_no)s 逾期未办结"
CALENDAR_MISSING = ("%(year)s年工作日历尚未录入：有办件的期限延伸到该年，暂只按周末推算；"
                    "请录入该年的节假日和调休安排")
MATERIAL_OWED = {
    "deferred": "容缺受理的材料“%(name)s”逾期（%(day)s）仍未补齐",
    "pledge": "告知承诺的材料“%(name)s”逾期（%(day)s）仍未核查",
}
RULE_FAST_STEP = ("【%(rule)s】环节“%(step)s”自到达至办结仅用%(seconds)s秒（少于%(minimum)s秒），"
                  "疑似线下办理后线上补录（体外循环）")
RULE_FAST_CASE = ("【%(rule)s】办件自创建至办结仅用%(minutes)s分钟、经%(steps)s个环节（少于%(limit)s分钟），"
                  "疑似事后集中补录")
RULE_LATE_SUPPLEMENT = ("【%(rule)s】补正告知在收到申请材料后第%(days)s个工作日才发出（超过%(limit)s个工作日）；"
                        "依法自收到申请材料之日起即为受理")
RULE_UNREASONED = {  # what a negative decision left out
    (False, True): "【%(rule)s】环节“%(step)s”作出否定性决定（%(negative)s）但未说明理由",
    (True, False): "【%(rule)s】环节“%(step)s”作出否定性决定（%(negative)s）但未说明法律依据",
    (False, False): "【%(rule)s】环节“%(step)s”作出否定性决定（%(negative)s）但未说明理由、法律依据",
}

DECISION_UNPUBLISHED = "行政决定作出后%(days)s个工作日内未公示（双公示）"
CASE_STUCK = "办件流程无法继续：没有待办环节，也没有等待的消息或计时（请检查流程图，如并行汇合缺少分支）"

KEYS = (*DEADLINE.values(), STEP_TIMER, ORDER_OVERDUE, CALENDAR_MISSING, *MATERIAL_OWED.values(),
        RULE_FAST_STEP, RULE_FAST_CASE, RULE_LATE_SUPPLEMENT, *RULE_UNREASONED.values(), DECISION_UNPUBLISHED,
        CASE_STUCK)
