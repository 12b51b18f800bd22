"""Decision tables (决策表) read and evaluated by Sunlight's safe evaluator: hit policies UNIQUE, FIRST and COLLECT,
the FEEL-like cells designers type, and every cell outside the safe subset refused naming its rule and line."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from app import engine
from app.engine import dmn
from tests import diagrams

TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 2 * 1024 * 1024


def _table(**kwargs) -> dmn.DecisionTable:
    return dmn.read([("penalty.dmn", diagrams.decision_table(**kwargs))], LIMIT)["penalty_standard"]


def _decide(table, income, first=False):
    return dmn.decide(table, {"illegal_income": income, "first_offence": first}, {})


def test_first_takes_the_first_matching_rule():
    table = _table(hit_policy="FIRST")
    assert _decide(table, 5000, True) == {"fine": 0}
    assert _decide(table, 5000, False) == {"fine": 5000}
    assert _decide(table, 10000) == {"fine": 20000}  # [10000..50000] is closed at both ends
    assert _decide(table, 50000.5) == {"fine": 250002.5}


def test_unique_allows_one_matching_rule_and_names_the_overlap():
    table = _table(hit_policy=None)  # no hitPolicy attribute: UNIQUE, as in DMN
    assert table.hit_policy == "UNIQUE" and _decide(table, 30000) == {"fine": 60000}
    overlapping = _table(hit_policy="UNIQUE", rules=[("< 10000", "-", "1"), ("<= 5000", "-", "2")])
    with pytest.raises(dmn.DecisionError, match="rules 1, 2 all match"):
        _decide(overlapping, 100)
    assert _decide(overlapping, 8000) == {"fine": 1}
    assert _decide(overlapping, 20000) == {"fine": None}  # no rule: the outputs are null


def test_collect_gathers_every_match_or_aggregates_it():
    rules = [("> 0", "-", "100"), ("> 1000", "-", "200"), ("> 5000", "true", "400")]
    assert _decide(_table(hit_policy="COLLECT", rules=rules), 2000) == {"fine": [100, 200]}
    assert _decide(_table(hit_policy="COLLECT", rules=rules), 0) == {"fine": []}
    assert _decide(_table(hit_policy="COLLECT", aggregation="SUM", rules=rules), 9000, True) == {"fine": 700}
    assert _decide(_table(hit_policy="COLLECT", aggregation="COUNT", rules=rules), 9000) == {"fine": 2}
    assert _decide(_table(hit_policy="COLLECT", aggregation="MAX", rules=rules), 0) == {"fine": None}


@pytest.mark.parametrize("cell,matches,misses", [
    ("-", [1, "x", None], []),
    ("", [1], []),
    ('"A", "B"', ["A", "B"], ["C"]),
    ('not("A")', ["B"], ["A"]),
    ("]1..10[", [2, 9.5], [1, 10]),
    ("(1..10]", [10], [1]),
    ("? > 3 and ? < 9", [4], [3, 9]),
    ("!= 5", [4], [5]),
    ("in [1, 2]", [2], [3]),
    ('"a, b"', ["a, b"], ["a"]),
])
def test_cells_as_designers_type_them(cell, matches, misses):
    table = _table(rules=[(cell, "-", "1")], hit_policy="FIRST")
    for value in matches:
        assert _decide(table, value) == {"fine": 1}, (cell, value)
    for value in misses:
        assert _decide(table, value) == {"fine": None}, (cell, value)


def test_feel_true_false_and_null_are_read_as_python_literals_outside_strings():
    table = _table(rules=[("-", "true", '"true"'), ("-", "null", "null")], hit_policy="FIRST")
    assert _decide(table, 1, True) == {"fine": "true"}
    assert dmn.decide(table, {"illegal_income": 1, "first_offence": None}, {}) == {"fine": None}


@pytest.mark.parametrize("cell", ["__import__('os').system('id')", "().__class__.__base__", "open('/etc/passwd')",
                                  "[x for x in y]", "lambda: 1", "eval('1')", "a := 1"])
def test_a_cell_that_tries_to_escape_refuses_the_upload_naming_rule_column_and_line(cell):
    with pytest.raises(engine.InvalidBpmn) as refused:
        dmn.read([("penalty.dmn", diagrams.decision_table(rules=[("< 1", "-", "0"), (cell, "-", "1")]))], LIMIT)
    [problem] = refused.value.problems
    assert problem.element_id == "Rule_2" and problem.line
    assert "rule 2 (Rule_2), input '违法所得'" in problem.message and "penalty.dmn" in problem.message


def test_an_output_cell_outside_the_subset_is_refused_too():
    with pytest.raises(engine.InvalidBpmn) as refused:
        dmn.read([("p.dmn", diagrams.decision_table(rules=[("-", "-", "x.__class__")]))], LIMIT)
    assert "output 'fine'" in refused.value.problems[0].message


@pytest.mark.parametrize("mutate,words", [
    (lambda x: x.replace(b'hitPolicy="FIRST"', b'hitPolicy="ANY"'), "hit policy 'ANY' is not supported"),
    (lambda x: x.replace(b' name="fine"', b""), "needs a name"),
    (lambda x: x.replace(b"<text>illegal_income</text>", b"<text></text>"), "has no expression"),
    (lambda x: x.replace(b'hitPolicy="FIRST"', b'hitPolicy="FIRST" aggregation="SUM"'), "aggregation"),
    (lambda x: x.replace(b"<text>first_offence</text>", b"<text>__class__</text>"), "input '初次违法' expression"),
    (lambda x: x.replace(b'<outputEntry id="Out_1"><text>0</text></outputEntry>', b""), "2 input and 0 output"),
])
def test_tables_sunlight_cannot_evaluate_are_refused_in_words(mutate, words):
    with pytest.raises(engine.InvalidBpmn) as refused:
        dmn.read([("p.dmn", mutate(diagrams.decision_table()))], LIMIT)
    assert any(words in p.message for p in refused.value.problems), refused.value.problems


@pytest.mark.parametrize("data,words", [
    (b"", "empty"), (b"<x/>", "a DMN file starts with"), (b"<definitions", "not well-formed"),
    (diagrams.MESSAGE_CATCH, "a DMN file starts with"),
    (b'<!DOCTYPE d [<!ENTITY e "x">]><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"/>', "DOCTYPE"),
    ('<?xml version="1.0" encoding="GBK"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
     'name="罚款"/>'.encode("gbk"), "UTF-8"),
])
def test_a_file_that_is_not_dmn_is_refused(data, words):
    with pytest.raises(engine.InvalidBpmn) as refused:
        dmn.read([("x.dmn", data)], LIMIT)
    assert words in refused.value.problems[0].message and "x.dmn" in refused.value.problems[0].message


def test_a_dmn_file_over_the_limit_is_too_large():
    with pytest.raises(engine.BpmnTooLarge):
        dmn.read([("x.dmn", diagrams.decision_table())], 100)


def test_a_business_rule_task_runs_its_table_and_the_outputs_join_the_case_data():
    files = [("penalty.dmn", diagrams.decision_table())]
    deployable = engine.validate(diagrams.business_rule(), limit=LIMIT, tz=TZ, decisions=files)
    assert deployable.spec_key != deployable.sha256 and deployable.decisions[0]["tables"][0]["hit_policy"] == "FIRST"
    bundle = engine.bundle_for(deployable.spec_key, diagrams.business_rule(), deployable.process_id, TZ, files)
    run, _ = engine.CaseRun.start(bundle, {"illegal_income": 20000, "first_offence": False}, {})
    run.complete(run.tasks()[0].id, {})
    hearing = next(t for t in run.tasks() if t.state == "ready")
    assert hearing.bpmn_id == "Task_hearing" and run.task_data(hearing.id)["fine"] == 40000
    again = engine.CaseRun.load(run.dump(), bundle, {})  # the blob names the bundle (BPMN + DMN) it runs on
    assert [t.bpmn_id for t in again.tasks()] == [t.bpmn_id for t in run.tasks()]


def test_a_decision_that_cannot_be_taken_stops_the_step_naming_the_task():
    files = [("penalty.dmn", diagrams.decision_table(hit_policy="UNIQUE", rules=[("> 0", "-", "1"), ("> 1", "-", "2")]))]
    deployable = engine.validate(diagrams.business_rule(), limit=LIMIT, tz=TZ, decisions=files)
    bundle = engine.bundle_for(deployable.spec_key, diagrams.business_rule(), deployable.process_id, TZ, files)
    run, _ = engine.CaseRun.start(bundle, {"illegal_income": 5, "first_offence": False}, {})
    with pytest.raises(engine.EngineError) as stopped:
        run.complete(run.tasks()[0].id, {})
    assert stopped.value.element_id == "Rule_fine" and "rules 1, 2 all match" in stopped.value.message
    run, _ = engine.CaseRun.start(bundle, {"first_offence": False}, {})
    with pytest.raises(engine.EngineError) as stopped:
        run.complete(run.tasks()[0].id, {})
    assert "'illegal_income' is not defined" in stopped.value.message


def test_business_rule_tasks_need_a_known_decision():
    files = [("penalty.dmn", diagrams.decision_table())]
    with pytest.raises(engine.InvalidBpmn) as refused:
        engine.validate(diagrams.business_rule(None), limit=LIMIT, tz=TZ, decisions=files)
    assert refused.value.problems[0].element_id == "Rule_fine" and "businessRuleTask" in refused.value.problems[0].message
    with pytest.raises(engine.InvalidBpmn) as refused:
        engine.validate(diagrams.business_rule("other"), limit=LIMIT, tz=TZ, decisions=files)
    assert "'other'" in refused.value.problems[0].message and "penalty_standard" in refused.value.problems[0].message
    twice = [("a.dmn", diagrams.decision_table()), ("b.dmn", diagrams.decision_table())]
    with pytest.raises(engine.InvalidBpmn, match="used twice"):
        engine.validate(diagrams.business_rule(), limit=LIMIT, tz=TZ, decisions=twice)
