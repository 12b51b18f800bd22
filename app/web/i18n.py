"""A small dict-based translation: the pages are written in Simplified Chinese, EN holds their English.

`_("…%(n)s…", n=3)` returns the Chinese text, or its English when the page is shown in English. A test
checks that every `_()` string of the pages has an English entry, so no page is ever half translated.
Data (item names, step names, what people typed) is shown as entered.
"""
from __future__ import annotations

from flask import g, has_request_context

from app.errors import DomainError

from .messages_en import EN

LANGS = ("zh", "en")


def current_lang() -> str:
    return g.get("lang", "zh") if has_request_context() else "zh"


def _(text: str, **kwargs) -> str:
    if current_lang() == "en":
        text = EN.get(text, text)
    return text % kwargs if kwargs else text


def message(msg: dict | None) -> str:
    """A stored message ({key, params}: a notice's reason) in the reader's language; parameters are data."""
    if not msg:
        return ""
    try:
        return _(msg["key"], **(msg.get("params") or {}))
    except (KeyError, TypeError, ValueError):  # a key whose placeholders no longer match: the words as they are
        return msg["key"]


# Service errors carry a code; the page shows its translation (the service's own words are English).
ERRORS = {
    "task_not_ready": "该环节已办理或尚未到达，请刷新页面。",
    "case_not_running": "该办件当前不在办理中。",
    "case_not_suspended": "该办件未处于暂停计时状态。",
    "stale_case": "该办件刚被他人修改，请刷新后重试。",
    "item_not_active": "该事项当前不受理新的办件。",
    "no_published_definition": "该事项尚无已发布的流程。",
    "materials_incomplete": "材料不齐全，不予受理；一次性告知缺少的全部材料：",
    "invalid_materials": "上传的材料有问题：",
    "wrong_status": "当前状态下不能进行该操作。",
    "engine_error": "流程无法继续：请检查填写的决定项。",
    "too_expensive": "该操作所需的计算量超出上限，已全部撤销、未保存；请流程设计人员检查该环节的脚本、循环或多实例设置。",
    "invalid_bpmn": "流程图无法部署，请按提示修改。",
    "bpmn_too_large": "流程图文件太大。",
    "order_closed": "该督办已办结。",
    "order_open": "该督办仍在办理中。",
    "case_has_open_order": "该办件已有未办结的督办，请在该督办上继续（可办结，或重新督办并设新的期限）。",
    "duplicate": "已存在，请勿重复提交。",
    "already_rated": "该办件已经评价过了，每件只能评价一次。",
    "case_not_completed": "办结后才能评价。",
    "file_too_large": "上传的文件太大。",
    "upload_quota": "您24小时内上传的文件已达上限，请稍后再传或联系管理员。",
    "unsupported_file_type": "只接受 PDF、JPEG、PNG 或 OFD 文件。",
    "legal_review_required": "该重大执法决定须经法制审核，已提交法制审核。",
    "no_pending_decision": "该办件没有待法制审核的决定。",
    "no_decision": "该办件没有可公示的决定。",
    "already_published": "该决定已公示。",
    "not_published": "只有已公示的决定才能撤销。",
}
BY_STATUS = {400: "提交的内容有误。", 401: "请先登录。", 403: "您无权进行该操作。", 404: "找不到该页面或内容。",
             409: "操作与当前状态冲突，请刷新后重试。", 413: "提交的内容太大。", 415: "提交的内容格式不对。",
             422: "提交的内容不符合要求，请检查后重试。"}


def translate_error(exc: DomainError) -> str:
    text = _(ERRORS[exc.code]) if exc.code in ERRORS else _(BY_STATUS.get(exc.status, "请求无法处理。"))
    named = [d.get("material") for d in exc.details if isinstance(d, dict) and d.get("material")]
    elements = [d.get("element_id") for d in exc.details if isinstance(d, dict) and d.get("element_id")]
    if exc.code == "too_expensive" and elements:
        return text + " " + _("（环节：%(e)s）", e=", ".join(dict.fromkeys(elements)))
    if exc.code in ("materials_incomplete", "invalid_materials") and named:
        text += ("、" if current_lang() == "zh" else ", ").join(dict.fromkeys(named))
    else:
        fields = [d.get("field") for d in exc.details if isinstance(d, dict) and d.get("field")]
        if fields:
            text += " " + _("（涉及：%(f)s）", f=", ".join(fields))
    return text


# Labels of codes (statuses, cards, levels, categories) the pages show on every row: each table is built once
# per language, not once per row (a worklist of hundreds of rows would translate them hundreds of times).
def _statuses() -> dict:
    return {"running": _("办理中"), "completed": _("已办结"), "suspended": _("暂停计时中"), "terminated": _("已终止"),
            "refused": _("不予受理"), "withdrawn": _("已撤回"), "draft": _("草稿"), "in_review": _("待审核"),
            "published": _("已发布"), "rejected": _("已退回"), "retired": _("已停用"), "active": _("运行中"),
            "abolished": _("已废止"), "open": _("办理中"), "replied": _("已回复"), "closed": _("已办结"),
            "ready": _("待办"), "done": _("已完成"), "waiting": _("等待中"), "cancelled": _("已取消")}


def _cards() -> dict:
    return {"none": _("正常"), "warning": _("预警"), "yellow": _("黄牌"), "red": _("红牌")}


def _categories() -> dict:
    return {"licensing": _("行政许可"), "penalty": _("行政处罚"), "enforcement": _("行政强制"), "levy": _("行政征收"),
            "other": _("其他权力")}


_TABLES = {"status": _statuses, "card": _cards, "category": _categories}
_built: dict[tuple[str, str], dict] = {}


def label(kind: str, code) -> str:
    """The page's words for a code (e.g. label("status", "running") → 办理中 / In progress)."""
    key = (kind, current_lang())
    table = _built.get(key)
    if table is None:
        table = _built[key] = _TABLES[kind]()
    return table.get(code, code)
