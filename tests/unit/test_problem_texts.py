"""Every problem Sunlight reports about a diagram, a decision table or a running case has a Chinese text.

The battery drives the bad diagrams the suite already uses (tests/unit/test_validation.py, test_dmn.py,
test_bpmn_features.py, tests/diagrams.py), a few more for checks no test reached, and the refused files of the
shared corpus when it is present; any problem message the translation table has no Chinese for fails.
"""
from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app import engine
from app.engine import dmn
from app.engine.problem_texts import _RULES, localized, with_zh, zh
from tests import diagrams
from tests.unit import test_validation as crafted

TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 2 * 1024 * 1024
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
HAN = re.compile(r"[\u4e00-\u9fff]")


# --- the table ------------------------------------------------------------------------------------------------
def test_a_refused_condition_reads_in_chinese_with_its_hint_and_the_designers_text_kept():
    message = ("condition '${approved}' is refused: syntax error: invalid syntax (this looks like a Camunda JUEL "
               "expression: write the bare condition, e.g. approved == True)")
    assert zh(message) == "条件“${approved}”不被接受：语法错误（这像是 Camunda 的 JUEL 表达式：请直接写条件，例如 approved == True）"


def test_nested_reasons_are_translated_at_every_level():
    message = ("p.dmn: decision '罚款裁量', rule 2 (Rule_2), input '违法所得': 'x.y' is refused: attribute access (x.y) "
               "is not allowed; use x['y'] for data fields")
    assert zh(message) == ("p.dmn：决策“罚款裁量”第 2 条规则（Rule_2）的输入“违法所得”：“x.y”不被接受："
                           "不允许访问属性（x.y）；数据字段请写成 x['y']。")
    assert zh("Error evaluating expression 'x > 1': 'x' is not defined in the case data") == \
        "计算表达式“x > 1”出错：办件数据中没有“x”。"


def test_an_unknown_message_has_no_chinese_but_the_page_still_shows_it():
    assert zh("the moon is made of cheese") is None
    assert zh("condition 'a' is refused: the moon is made of cheese") is None  # strict: every part or nothing
    assert localized("condition 'a' is refused: the moon is made of cheese", "zh") == \
        "条件“a”不被接受：the moon is made of cheese"
    assert localized("the moon is made of cheese", "zh") == "the moon is made of cheese"


def test_english_pages_show_the_english_as_written():
    message = "the condition is empty; write e.g. approved == True"
    assert localized(message, "en") == message
    assert localized(message, "zh") == "条件为空；请填写条件，例如 approved == True。"


def test_braces_in_a_template_are_literal():
    assert zh("text formatting with % is not allowed; use an f-string like f\"PT{hours}H\"").endswith(
        "f\"PT{hours}H\"。")


def test_api_details_gain_message_zh_and_keep_the_english():
    details = [{"element_id": "Flow_1", "line": 3, "message": "the condition is empty; write e.g. approved == True"},
               {"element_id": None, "line": None, "message": "no words for this"}, {"field": "x"}]
    out = with_zh(details)
    assert out[0]["message"] == details[0]["message"] and out[0]["message_zh"].startswith("条件为空")
    assert "message_zh" not in out[1] and out[2] == {"field": "x"}
    assert "message_zh" not in details[0]  # the caller's list is not changed


def test_every_rule_compiles_fills_only_its_own_groups_and_speaks_chinese():
    slot = re.compile(r"\{~?(\w+)\}")
    for pattern, template in _RULES:
        groups = set(re.compile(pattern).groupindex)
        assert set(slot.findall(template.replace("{{", "").replace("}}", ""))) <= groups, pattern
        if pattern:  # the one empty rule stands for "no hint" after a syntax error
            assert HAN.search(template) or template.startswith("{"), pattern


# --- the battery: bad diagrams -------------------------------------------------------------------------------
def _problems(xml: bytes, decisions=()) -> list[engine.Problem]:
    try:
        engine.validate(xml, limit=LIMIT, tz=TZ, decisions=list(decisions))
    except engine.InvalidBpmn as exc:
        return exc.problems
    return []


def _dmn_problems(data: bytes, name: str = "p.dmn") -> list[engine.Problem]:
    try:
        dmn.read([(name, data)], LIMIT)
    except engine.InvalidBpmn as exc:
        return exc.problems
    return []


D = crafted.diagram
R = crafted.REVIEW
TABLE = diagrams.decision_table()
BAD_DIAGRAMS = {
    # tests/unit/test_validation.py
    "billion laughs": crafted.BILLION_LAUGHS, "empty": b"", "not xml": b"<bpmn:definitions",
    "wrong root": b"<html/>", "gbk": D(R).decode().replace("Review", "审查").encode("gbk"),
    "not executable": D(R, executable="false"),
    "two executable": D(R, extra='<bpmn:process id="Process_other" isExecutable="true">'
                                  '<bpmn:startEvent id="S2"/></bpmn:process>\n'),
    "flow to nowhere": D(R.replace('targetRef="Event_end"', 'targetRef="Event_nowhere"')),
    "flow without source": D(R.replace('sourceRef="Event_start" ', "")),
    "call loop": D(R + '<bpmn:callActivity id="Call_me" calledElement="Process_case"/>'),
    "call elsewhere": D(R + '<bpmn:callActivity id="Call_x" calledElement="Process_elsewhere"/>'),
    "call nothing": D(R + '<bpmn:callActivity id="Call_none"/>'),
    "closed loop": D(R.replace('targetRef="Event_end"', 'targetRef="Task_review"')),
    "reserved id": D(R.replace("Task_review", "Start")),
    "empty condition": D(R.replace('<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_review" targetRef="Event_end"/>',
                                   '<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_review" targetRef="Event_end">'
                                   '<bpmn:conditionExpression> </bpmn:conditionExpression></bpmn:sequenceFlow>')),
    "timer without value": crafted.with_timer("timeDuration", "").replace(
        b"<bpmn:timeDuration></bpmn:timeDuration>", b""),
    "bad duration": crafted.with_timer("timeDuration", "PT72X"),
    "bare number": crafted.with_timer("timeDuration", "72"),
    "cycle as duration": crafted.with_timer("timeCycle", "PT24H"),
    "date as words": crafted.with_timer("timeDate", "next monday"),
    "too many workdays": crafted.with_timer("timeDuration", "workdays(9999)"),
    "timer escape": crafted.with_timer("timeDuration", "__import__('os')"),
    "complex gateway": D(R.replace("bpmn:userTask", "bpmn:complexGateway")),
    "business-rule task": D(R.replace("bpmn:userTask", "bpmn:businessRuleTask")),
    "duplicate id": D(R + '<bpmn:userTask id="Task_review" name="Again"/>'),
    "data store": D(R.replace('<bpmn:userTask id="Task_review" name="Review"/>',
                              '<bpmn:userTask id="Task_review" name="Review"><bpmn:dataOutputAssociation id="A1">'
                              '<bpmn:targetRef>Store_1</bpmn:targetRef></bpmn:dataOutputAssociation></bpmn:userTask>'
                              '<bpmn:dataStoreReference id="Store_1" name="Archive"/>')),
    "script method call": D(R + '<bpmn:scriptTask id="Script_1"><bpmn:script>x = a.upper()</bpmn:script>'
                                '</bpmn:scriptTask>'),
    "script statement": D(R + '<bpmn:scriptTask id="Script_2"><bpmn:script>print(1)</bpmn:script>'
                              '</bpmn:scriptTask>'),
    "subprocess without start": D(R.replace('<bpmn:userTask id="Task_review" name="Review"/>',
                                            '<bpmn:subProcess id="Task_review"><bpmn:userTask id="Inner"/>'
                                            '</bpmn:subProcess>')),
    # tests/diagrams.py and test_bpmn_features.py
    "two gateway timers": diagrams.event_gateway("P2D").replace(
        b'<bpmn:userTask id="Task_review"',
        b'<bpmn:intermediateCatchEvent id="Timer_2"><bpmn:timerEventDefinition id="TED_2"><bpmn:timeDuration>P3D'
        b'</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        b'<bpmn:sequenceFlow id="F_g2" sourceRef="Gateway_wait" targetRef="Timer_2"/>'
        b'<bpmn:sequenceFlow id="F_t2" sourceRef="Timer_2" targetRef="Task_close"/><bpmn:userTask id="Task_review"'),
    "gateway cycle": diagrams.event_gateway("R3/PT1H").replace(b"timeDuration", b"timeCycle"),
    "gateway bad timer": diagrams.event_gateway("PT1X"),
    "rule task without decision": diagrams.business_rule(None),
    "rule task unknown decision": diagrams.business_rule("other"),
    "correlation escape": diagrams.MESSAGE_CATCH.replace(
        b"</bpmn:definitions>",
        b'<bpmn:correlationProperty id="CP_1"><bpmn:correlationPropertyRetrievalExpression messageRef="M">'
        b'<bpmn:formalExpression>__import__("os")</bpmn:formalExpression>'
        b"</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty></bpmn:definitions>"),
}
for _cond in ("${approved}", "= approved", "bpmn:getDataObject('approved')", "a = 1", "x.y", "[a for a in b]",
              "lambda: 1", "f(**k)", "len", "__class__", "open('x')", "1 +", "-" * 50 + "1", "+".join("a" * 500),
              "a" * 4001, "b'x'", "f'{a:>3}'", "{**a}", "a.b()", "import os"):
    BAD_DIAGRAMS[f"condition {_cond[:20]}"] = D(R.replace(
        '<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_review" targetRef="Event_end"/>',
        '<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_review" targetRef="Event_end"><bpmn:conditionExpression>'
        + _cond.replace("&", "&amp;").replace("<", "&lt;") + "</bpmn:conditionExpression></bpmn:sequenceFlow>"))

BAD_TABLES = {
    "hit policy": TABLE.replace(b'hitPolicy="FIRST"', b'hitPolicy="ANY"'),
    "output name": TABLE.replace(b' name="fine"', b""),
    "input expression": TABLE.replace(b"<text>illegal_income</text>", b"<text></text>"),
    "aggregation": TABLE.replace(b'hitPolicy="FIRST"', b'hitPolicy="FIRST" aggregation="SUM"'),
    "input escape": TABLE.replace(b"<text>first_offence</text>", b"<text>__class__</text>"),
    "cells": TABLE.replace(b'<outputEntry id="Out_1"><text>0</text></outputEntry>', b""),
    "input cell": diagrams.decision_table(rules=[("< 1", "-", "0"), ("().__class__", "-", "1")]),
    "output cell": diagrams.decision_table(rules=[("-", "-", "x.__class__")]),
    "empty": b"", "root": b"<x/>", "not xml": b"<definitions", "bpmn": diagrams.MESSAGE_CATCH,
    "doctype": b'<!DOCTYPE d [<!ENTITY e "x">]><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"/>',
    "gbk": '<?xml version="1.0" encoding="GBK"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
           'name="罚款"/>'.encode("gbk"),
    "no table": b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d"/>',
}


def _battery() -> dict[str, list[str]]:
    """Each bad input's problem messages, by name."""
    found = {name: [p.message for p in _problems(xml)] for name, xml in BAD_DIAGRAMS.items()}
    found.update({f"dmn {name}": [p.message for p in _dmn_problems(data)] for name, data in BAD_TABLES.items()})
    twice = [("a.dmn", TABLE), ("b.dmn", TABLE)]
    found["dmn twice"] = [p.message for p in _problems(diagrams.business_rule(), twice)]
    return found


def _corpus() -> dict[str, list[str]]:
    if not CORPUS.is_dir():
        return {}
    return {str(path.relative_to(CORPUS)): [p.message for p in _problems(path.read_bytes())]
            for path in sorted(CORPUS.rglob("*.bpmn"))}


def _untranslated(found: dict[str, list[str]]) -> list[str]:
    return sorted({f"{name}: {m}" for name, messages in found.items() for m in messages if zh(m) is None})


def test_every_problem_of_the_crafted_bad_diagrams_has_a_chinese_text():
    found = _battery()
    refused = [name for name, messages in found.items() if messages]
    assert len(refused) >= len(found) - 2, [n for n, m in found.items() if not m]  # the battery does refuse
    assert not _untranslated(found)


def test_every_problem_of_the_refused_corpus_files_has_a_chinese_text():
    if not CORPUS.is_dir():
        pytest.skip(f"no BPMN corpus at {CORPUS}")
    found = _corpus()
    assert sum(1 for m in found.values() if m) > 20
    assert not _untranslated(found)


def test_warnings_of_accepted_diagrams_have_a_chinese_text():
    laneless = engine.validate(D(R), limit=LIMIT, tz=TZ).warnings
    expression_timer = engine.validate(crafted.with_timer("timeDuration", 'f"PT{24*3}H"'), limit=LIMIT,
                                       tz=TZ).warnings
    assert laneless and expression_timer
    assert [w for w in laneless + expression_timer if zh(w) is None] == []


# --- the battery: cases that cannot proceed ---------------------------------------------------------------------
def _stopped(xml: bytes, data: dict, decisions=()) -> str:
    deployable = engine.validate(xml, limit=LIMIT, tz=TZ, decisions=list(decisions))
    bundle = engine.bundle_for(deployable.spec_key, xml, deployable.process_id, TZ, list(decisions))
    run, _ = engine.CaseRun.start(bundle, data, {})
    with pytest.raises(engine.EngineError) as stopped:
        run.complete(next(t for t in run.tasks() if t.state == "ready").id, {})
    return stopped.value.message


def test_engine_errors_a_clerk_meets_have_a_chinese_text():
    gateway = D(R.replace('<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_review" targetRef="Event_end"/>',
                          '<bpmn:exclusiveGateway id="Gateway_1"/>'
                          '<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_review" targetRef="Gateway_1"/>'
                          '<bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_1" targetRef="Event_end">'
                          '<bpmn:conditionExpression>passed == True</bpmn:conditionExpression></bpmn:sequenceFlow>'))
    unique = [("penalty.dmn", diagrams.decision_table(hit_policy="UNIQUE", rules=[("> 0", "-", "1"),
                                                                                   ("> 1", "-", "2")]))]
    messages = [_stopped(gateway, {}), _stopped(gateway, {"passed": False}),
                _stopped(diagrams.business_rule(), {"illegal_income": 5, "first_offence": False}, unique),
                _stopped(diagrams.business_rule(), {"first_offence": False}, unique)]
    assert [m for m in messages if zh(m) is None] == [], messages
    assert zh(messages[1]) == "网关 Gateway_1 的条件都不满足，且没有默认流。"


def test_a_case_that_cannot_proceed_says_why_on_the_page_in_its_language():
    from flask import Flask, g

    from app.cases.service import engine_error
    from app.web.i18n import translate_error

    refused = engine_error(engine.EngineError("Error evaluating expression 'x > 1': 'x' is not defined in the case "
                                              "data", "Flow_1"))
    with Flask(__name__).test_request_context():
        g.lang = "zh"
        assert translate_error(refused).endswith("计算表达式“x > 1”出错：办件数据中没有“x”。")
        g.lang = "en"
        said = translate_error(refused)
        assert "'x' is not defined in the case data" in said and not HAN.search(said)
