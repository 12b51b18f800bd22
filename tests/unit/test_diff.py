"""The semantic diff the legal office reads: right values, right way round, nothing from layout or order.

Version pairs are crafted from the licensing demo by byte replacement; each replacement must hit exactly once so
a drifting demo file fails loudly instead of silently testing nothing. Corpus pairs (read in place) must not raise.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from app.definitions.diff import diff

ROOT = Path(__file__).parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
V1 = (ROOT / "bpmn" / "licensing_demo.bpmn").read_bytes()


def edit(xml: bytes, *swaps: tuple[str, str]) -> bytes:
    for old, new in swaps:
        assert xml.count(old.encode()) == 1, f"{old!r} must occur exactly once"
        xml = xml.replace(old.encode(), new.encode())
    return xml


def summary(changes: list[dict]) -> list[tuple]:
    return [(c["change"], c["element_id"], c["field"], c["old"], c["new"]) for c in changes]


def test_identical_versions_have_no_changes():
    assert diff(V1, V1) == []


def test_a_timer_change_is_one_change_with_old_and_new_the_right_way_round():
    v2 = edit(V1, ("PT72H", "PT48H"))
    assert diff(V1, v2) == [{"change": "changed", "element_id": "Timer_review_late", "element_type": "boundaryEvent",
                             "name": "审查超时", "field": "timer", "old": "timeDuration: PT72H",
                             "new": "timeDuration: PT48H"}]
    assert summary(diff(v2, V1)) == [("changed", "Timer_review_late", "timer", "timeDuration: PT48H",
                                      "timeDuration: PT72H")]


def test_timer_kind_and_quoting_count_but_surrounding_whitespace_does_not():
    as_date = edit(V1, ("<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">PT72H</bpmn:timeDuration>",
                        "<bpmn:timeDate>2026-05-01T09:00:00+08:00</bpmn:timeDate>"))
    assert summary(diff(V1, as_date)) == [("changed", "Timer_review_late", "timer", "timeDuration: PT72H",
                                           "timeDate: 2026-05-01T09:00:00+08:00")]
    quoted = edit(V1, (">PT72H<", ">\"PT72H\"<"))
    assert summary(diff(V1, quoted)) == [("changed", "Timer_review_late", "timer", "timeDuration: PT72H",
                                          'timeDuration: "PT72H"')]
    assert diff(V1, edit(V1, (">PT72H<", ">\n          PT72H\n        <"))) == []


def test_a_condition_change_shows_the_old_and_new_text():
    v2 = edit(V1, ("approved == True<", "approved == True and score &gt; 60<"))
    assert summary(diff(V1, v2)) == [("changed", "Flow_approve", "condition", "approved == True",
                                      "approved == True and score > 60")]


def test_a_rename():
    v2 = edit(V1, ('name="审查"', 'name="实质审查"'))
    assert diff(V1, v2) == [{"change": "changed", "element_id": "Task_review", "element_type": "userTask",
                             "name": "实质审查", "field": "name", "old": "审查", "new": "实质审查"}]


def test_a_wrapped_label_is_not_a_rename():
    assert diff(V1, edit(V1, ('name="审查通过？"', 'name="&#10; 审查通过？ "'))) == []
    one_line = edit(V1, ('name="告知不予许可"', 'name="告知 不予许可"'))
    assert diff(one_line, edit(V1, ('name="告知不予许可"', 'name="告知&#10;不予许可"'))) == []


def test_a_task_added_with_its_flows():
    v2 = edit(V1, ('<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_accept" targetRef="Task_review" />',
                   '<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_accept" targetRef="Task_check" />'
                   '<bpmn:userTask id="Task_check" name="现场核查" />'
                   '<bpmn:sequenceFlow id="Flow_check" sourceRef="Task_check" targetRef="Task_review" />'))
    changes = diff(V1, v2)
    assert summary(changes) == [("added", "Task_check", None, None, None), ("added", "Flow_check", None, None, None),
                                ("changed", "Flow_2", "target", "Task_review", "Task_check")]
    assert changes[0]["element_type"] == "userTask" and changes[0]["name"] == "现场核查"


def test_a_task_removed_with_its_flow():
    v2 = edit(V1, ("<bpmn:flowNodeRef>Task_notify_refusal</bpmn:flowNodeRef>", ""),
              ('sourceRef="Gateway_approved" targetRef="Task_notify_refusal"',
               'sourceRef="Gateway_approved" targetRef="End_refused"'),
              ('<bpmn:sequenceFlow id="Flow_6" sourceRef="Task_notify_refusal" targetRef="End_refused" />', ""))
    start = v2.index(b'<bpmn:userTask id="Task_notify_refusal"')
    v2 = v2[:start] + v2[v2.index(b"</bpmn:userTask>", start) + len(b"</bpmn:userTask>"):]
    changes = diff(V1, v2)
    assert summary(changes) == [("removed", "Task_notify_refusal", None, None, None),
                                ("removed", "Flow_6", None, None, None),
                                ("changed", "Flow_reject", "target", "Task_notify_refusal", "End_refused")]
    assert changes[0]["name"] == "告知不予许可"  # a removed element is named as it was


def test_a_lane_rename_does_not_move_its_elements():
    v2 = edit(V1, ('name="决定岗"', 'name="签发岗"'))
    assert summary(diff(V1, v2)) == [("changed", "Lane_decide", "name", "决定岗", "签发岗")]


def test_an_element_moved_to_another_lane_shows_the_lane_names():
    v2 = edit(V1, ("<bpmn:flowNodeRef>Task_decide</bpmn:flowNodeRef>", ""),
              ("<bpmn:flowNodeRef>Task_review</bpmn:flowNodeRef>",
               "<bpmn:flowNodeRef>Task_review</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_decide</bpmn:flowNodeRef>"))
    assert diff(V1, v2) == [{"change": "changed", "element_id": "Task_decide", "element_type": "userTask",
                             "name": "决定", "field": "lane", "old": "决定岗", "new": "审查岗"}]


def test_a_lane_added_and_an_element_moved_into_it():
    v2 = edit(V1, ("<bpmn:flowNodeRef>Task_decide</bpmn:flowNodeRef>", ""),
              ("</bpmn:laneSet>", '<bpmn:lane id="Lane_leader" name="分管领导">'
                                  "<bpmn:flowNodeRef>Task_decide</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"))
    assert summary(diff(V1, v2)) == [("added", "Lane_leader", None, None, None),
                                     ("changed", "Task_decide", "lane", "决定岗", "分管领导")]


def test_switching_a_gateways_default_flow():
    v2 = edit(V1, ('default="Flow_reject"', 'default="Flow_approve"'))
    assert summary(diff(V1, v2)) == [("changed", "Flow_approve", "default", "false", "true"),
                                     ("changed", "Flow_reject", "default", "true", "false")]


def test_flipping_a_boundary_event_to_interrupting():
    expected = [("changed", "Timer_review_late", "interrupting", "false", "true")]
    assert summary(diff(V1, edit(V1, ('cancelActivity="false"', 'cancelActivity="true"')))) == expected
    assert summary(diff(V1, edit(V1, ('cancelActivity="false" ', "")))) == expected  # true is BPMN's default


def test_documentation_added():
    v2 = edit(V1, ('<bpmn:userTask id="Task_review" name="审查">',
                   '<bpmn:userTask id="Task_review" name="审查"><bpmn:documentation>依据《行政许可法》第三十四条'
                   "</bpmn:documentation>"))
    assert summary(diff(V1, v2)) == [("changed", "Task_review", "documentation", None, "依据《行政许可法》第三十四条")]


def test_a_script_change_and_a_type_change():
    script = edit(V1, ('"准予许可" if approved', '"准予许可" if approved and score > 60'))
    assert summary(diff(V1, script)) == [("changed", "Script_decision", "script",
                                          'decision = "准予许可" if approved else "不予许可"',
                                          'decision = "准予许可" if approved and score > 60 else "不予许可"')]
    manual = edit(V1, ('<bpmn:userTask id="Task_decide" name="决定">', '<bpmn:manualTask id="Task_decide" name="决定">'))
    manual = manual.replace(b"</bpmn:userTask>\n    <bpmn:scriptTask", b"</bpmn:manualTask>\n    <bpmn:scriptTask")
    changes = diff(V1, manual)
    assert summary(changes) == [("changed", "Task_decide", "type", "userTask", "manualTask")]
    assert changes[0]["element_type"] == "manualTask"


def test_process_and_pool_level_changes():
    v2 = edit(V1, ('name="行政许可（演示）" isExecutable="true"', 'name="行政许可" isExecutable="false"'),
              ('name="区市场监督管理局"', 'name="区行政审批局"'))
    assert summary(diff(V1, v2)) == [("changed", "Participant_bureau", "name", "区市场监督管理局", "区行政审批局"),
                                     ("changed", "licensing_demo", "name", "行政许可（演示）", "行政许可"),
                                     ("changed", "licensing_demo", "executable", "true", "false")]


def test_layout_order_and_whitespace_are_not_changes():
    moved_shapes = V1.replace(b'x="780" y="500"', b'x="800" y="520"').replace(b'<di:waypoint x="700" y="305" />',
                                                                              b'<di:waypoint x="701" y="306" />')
    assert moved_shapes != V1 and diff(V1, moved_shapes) == []
    end = b'<bpmn:endEvent id="End_refused" name="\xe4\xb8\x8d\xe4\xba\x88\xe8\xae\xb8\xe5\x8f\xaf">'
    start = V1.index(end)
    block = V1[start:V1.index(b"</bpmn:endEvent>", start) + len(b"</bpmn:endEvent>")]
    reordered = V1.replace(block, b"").replace(b"<bpmn:startEvent id=", block + b"\n<bpmn:startEvent id=")
    assert reordered != V1 and diff(V1, reordered) == []
    spaced = edit(V1, (">approved == True<", ">\n   approved == True\n  <"))
    assert diff(V1, spaced) == []


def test_changes_are_ordered_by_kind_then_document_order():
    v2 = edit(V1, ("PT72H", "PT48H"), ('name="受理"', 'name="收件"'),
              ('<bpmn:sequenceFlow id="Flow_6" sourceRef="Task_notify_refusal" targetRef="End_refused" />',
               '<bpmn:sequenceFlow id="Flow_7" sourceRef="Task_notify_refusal" targetRef="End_refused" />'))
    assert summary(diff(V1, v2)) == [("added", "Flow_7", None, None, None), ("removed", "Flow_6", None, None, None),
                                     ("changed", "Task_accept", "name", "受理", "收件"),
                                     ("changed", "Timer_review_late", "timer", "timeDuration: PT72H",
                                      "timeDuration: PT48H")]


# --- the shared corpus, read in place ----------------------------------------------------------------------------

MIWG = sorted((CORPUS / "miwg").glob("*.bpmn")) if CORPUS.is_dir() else []
ALL = sorted(CORPUS.rglob("*.bpmn")) if CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no BPMN corpus at {CORPUS}")


@needs_corpus
@pytest.mark.parametrize("reference", MIWG, ids=[p.name for p in MIWG])
def test_miwg_reference_against_its_bpmn_io_export(reference):
    export = CORPUS / "miwg-bpmnio" / f"{reference.stem}-export.bpmn"
    if not export.exists():
        pytest.skip(f"no bpmn.io export of {reference.name}")
    changes = diff(reference.read_bytes(), export.read_bytes())
    assert all(c["change"] in ("added", "removed", "changed") and c["element_id"] for c in changes)
    assert {c["field"] for c in changes if c["change"] != "changed"} <= {None}


@needs_corpus
@pytest.mark.parametrize("path", ALL, ids=[str(p.relative_to(CORPUS)) for p in ALL])
def test_a_corpus_file_against_itself_has_no_changes(path):
    assert diff(path.read_bytes(), path.read_bytes()) == []


def test_the_reviewer_reads_durations_and_flags_in_words():
    from app.web.review_words import describe, duration_words, value_words

    assert duration_words("P5D") == "5 天" and duration_words("PT72H") == "72 小时"
    assert duration_words("P1DT2H30M") == "1 天 2 小时 30 分钟"
    assert duration_words("P") is None and duration_words("2026-12-01T09:00") is None and duration_words("") is None
    assert value_words("timer", "timeDuration: PT72H") == "期限 72 小时"
    assert value_words("timer", "timeCycle: R3/PT1H") == "周期 R3/PT1H"  # shown as written when not a duration
    assert value_words("interrupting", "false") == "否" and value_words("name", "受理") is None
    row = describe({"change": "changed", "element_id": "Flow_yes", "element_type": "sequenceFlow", "name": "同意",
                    "field": "condition", "old": "approved", "new": "approved == True"})
    assert (row["element_word"], row["field_word"], row["old_word"]) == ("流转线", "条件", None)
