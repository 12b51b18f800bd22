"""Small BPMN diagrams for the behaviour tests of messages, external work and 会签 (no DI: the engine needs none)."""
from __future__ import annotations

from xml.sax.saxutils import escape

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">\n')


def process(body: str, *, pid: str = "Process_t", messages: tuple[str, ...] = (), executable: str | None = "true",
            lanes: dict[str, list[str]] | None = None) -> bytes:
    """A file with one process; `messages` are `id:name` pairs (or bare ids: a message without a name)."""
    attr = f' isExecutable="{executable}"' if executable is not None else ""
    lane_xml = ""
    if lanes:
        lane_xml = '<bpmn:laneSet id="LaneSet_1">' + "".join(
            f'<bpmn:lane id="Lane_{i}" name="{name}">' + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
            + "</bpmn:lane>" for i, (name, nodes) in enumerate(lanes.items())) + "</bpmn:laneSet>"
    msgs = "".join(f'<bpmn:message id="{m.split(":")[0]}"' + (f' name="{m.split(":")[1]}"' if ":" in m else "") + "/>"
                   for m in messages)
    return (HEAD + f'<bpmn:process id="{pid}"{attr}>{lane_xml}{body}</bpmn:process>{msgs}</bpmn:definitions>').encode()


def seq(*pairs: tuple[str, str]) -> str:
    return "".join(f'<bpmn:sequenceFlow id="F_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>' for a, b in pairs)


# 受理 → wait for the inspection report (a message catch event) → passed? 决定 : 退回 → end
MESSAGE_CATCH = process(
    '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_accept" name="受理"/>'
    '<bpmn:intermediateCatchEvent id="Catch_report" name="等待检测报告">'
    '<bpmn:messageEventDefinition id="MED_1" messageRef="Msg_report"/></bpmn:intermediateCatchEvent>'
    '<bpmn:exclusiveGateway id="Gateway_passed" default="F_Gateway_passed_Task_return"/>'
    '<bpmn:userTask id="Task_decide" name="决定"/><bpmn:userTask id="Task_return" name="退回"/>'
    '<bpmn:endEvent id="End"/><bpmn:endEvent id="End_returned"/>'
    + seq(("Start_1", "Task_accept"), ("Task_accept", "Catch_report"), ("Catch_report", "Gateway_passed"),
          ("Gateway_passed", "Task_return"), ("Task_decide", "End"), ("Task_return", "End_returned"))
    + '<bpmn:sequenceFlow id="F_passed" sourceRef="Gateway_passed" targetRef="Task_decide">'
      '<bpmn:conditionExpression>passed == True</bpmn:conditionExpression></bpmn:sequenceFlow>',
    messages=("Msg_report:inspection_report",))

# A receive task waiting for a message whose <bpmn:message> has no name (addressed by its id).
RECEIVE_TASK = process(
    '<bpmn:startEvent id="Start_1"/><bpmn:receiveTask id="Receive_fee" name="等待缴费" messageRef="Msg_fee"/>'
    '<bpmn:userTask id="Task_issue" name="发证"/><bpmn:endEvent id="End"/>'
    + seq(("Start_1", "Receive_fee"), ("Receive_fee", "Task_issue"), ("Task_issue", "End")),
    messages=("Msg_fee",))


def event_gateway(timer: str = "P10D") -> bytes:
    """Wait for the applicant's supplement (a message) or give up after `timer` (bare, as bpmn.io writes it)."""
    return process(
        '<bpmn:startEvent id="Start_1"/><bpmn:eventBasedGateway id="Gateway_wait" name="等待补正"/>'
        '<bpmn:intermediateCatchEvent id="Catch_supplement" name="补正材料到达">'
        '<bpmn:messageEventDefinition id="MED_1" messageRef="Msg_sup"/></bpmn:intermediateCatchEvent>'
        '<bpmn:intermediateCatchEvent id="Timer_expired" name="补正期满">'
        f'<bpmn:timerEventDefinition id="TED_1"><bpmn:timeDuration>{timer}</bpmn:timeDuration>'
        '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        '<bpmn:userTask id="Task_review" name="审查补正材料"/><bpmn:userTask id="Task_close" name="视为撤回"/>'
        '<bpmn:endEvent id="End_a"/><bpmn:endEvent id="End_b"/>'
        + seq(("Start_1", "Gateway_wait"), ("Gateway_wait", "Catch_supplement"), ("Gateway_wait", "Timer_expired"),
              ("Catch_supplement", "Task_review"), ("Timer_expired", "Task_close"), ("Task_review", "End_a"),
              ("Task_close", "End_b")),
        messages=("Msg_sup:supplement_received",))


# A case another system starts: the process begins with a message start event.
MESSAGE_START = process(
    '<bpmn:startEvent id="Start_report" name="收到移送"><bpmn:messageEventDefinition id="MED_s" messageRef="Msg_t"/>'
    '</bpmn:startEvent><bpmn:userTask id="Task_register" name="立案审查"/><bpmn:endEvent id="End"/>'
    + seq(("Start_report", "Task_register"), ("Task_register", "End")),
    messages=("Msg_t:case_transferred",))


def service_task(topic: str | None = "credit_check", boundary: str | None = None) -> bytes:
    """受理 → a credit check done by another system (service task) → 决定; optionally a timer on the check."""
    attr = f' camunda:type="external" camunda:topic="{topic}"' if topic else ""
    timer = ('<bpmn:boundaryEvent id="Timer_check" attachedToRef="Service_check">'
             f'<bpmn:timerEventDefinition id="TED_b"><bpmn:timeDuration>{boundary}</bpmn:timeDuration>'
             '</bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:userTask id="Task_manual" name="人工核查"/>'
             + seq(("Timer_check", "Task_manual"), ("Task_manual", "Gateway_merge"))) if boundary else ""
    return process(
        '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_accept" name="受理"/>'
        f'<bpmn:serviceTask id="Service_check" name="信用核查"{attr}/>{timer}'
        '<bpmn:exclusiveGateway id="Gateway_merge"/>'
        '<bpmn:userTask id="Task_decide" name="决定"/><bpmn:endEvent id="End"/>'
        + seq(("Start_1", "Task_accept"), ("Task_accept", "Service_check"), ("Service_check", "Gateway_merge"),
              ("Gateway_merge", "Task_decide"), ("Task_decide", "End")))


def joint_review(style: str = "camunda", sequential: bool = False) -> bytes:
    """会签: everyone in `reviewers` signs (a multi-instance user task over `assignee`), then 决定."""
    seq_attr = ' isSequential="true"' if sequential else ""
    if style == "camunda":
        loop = (f'<bpmn:multiInstanceLoopCharacteristics{seq_attr} camunda:collection="${{reviewers}}" '
                'camunda:elementVariable="assignee"/>')
    else:
        loop = (f'<bpmn:multiInstanceLoopCharacteristics{seq_attr}><bpmn:loopDataInputRef>reviewers'
                '</bpmn:loopDataInputRef><bpmn:inputDataItem id="DataInput_1" name="assignee"/>'
                '</bpmn:multiInstanceLoopCharacteristics>')
    return process(
        '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_accept" name="受理"/>'
        f'<bpmn:userTask id="Task_sign" name="会签">{loop}</bpmn:userTask>'
        '<bpmn:userTask id="Task_decide" name="决定"/><bpmn:endEvent id="End"/>'
        + seq(("Start_1", "Task_accept"), ("Task_accept", "Task_sign"), ("Task_sign", "Task_decide"),
              ("Task_decide", "End")))


def decision_table(hit_policy: str | None = "FIRST", rules: list[tuple[str, str, str]] | None = None,
                   aggregation: str | None = None, did: str = "penalty_standard") -> bytes:
    """行政处罚裁量基准 as Camunda Modeler writes a DMN 1.3 table: inputs illegal_income and first_offence,
    output fine. `rules` are (income cell, first-offence cell, fine cell)."""
    rules = rules if rules is not None else [
        ("< 10000", "true", "0"), ("< 10000", "false", "5000"), ("[10000..50000]", "-", "illegal_income * 2"),
        ("> 50000", "-", "illegal_income * 5")]
    policy = f' hitPolicy="{hit_policy}"' if hit_policy else ""
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    body = "".join(
        f'<rule id="Rule_{n}"><inputEntry id="In_{n}_a"><text>{escape(a)}</text></inputEntry>'
        f'<inputEntry id="In_{n}_b"><text>{escape(b)}</text></inputEntry>'
        f'<outputEntry id="Out_{n}"><text>{escape(c)}</text></outputEntry></rule>'
        for n, (a, b, c) in enumerate(rules, 1))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Defs_dmn" name="DRD" '
            'namespace="http://camunda.org/schema/1.0/dmn">'
            f'<decision id="{did}" name="罚款裁量"><decisionTable id="Table_1"{policy}{agg}>'
            '<input id="Input_1" label="违法所得"><inputExpression id="IE_1" typeRef="number"><text>illegal_income</text>'
            '</inputExpression></input>'
            '<input id="Input_2" label="初次违法"><inputExpression id="IE_2" typeRef="boolean"><text>first_offence</text>'
            '</inputExpression></input>'
            f'<output id="Output_1" label="罚款" name="fine" typeRef="number"/>{body}</decisionTable></decision>'
            '</definitions>').encode()


def business_rule(decision_ref: str | None = "penalty_standard", hearing: str = "fine >= 10000") -> bytes:
    """立案 → the penalty is set by the discretion table (a business-rule task) → 听证告知 when `hearing` holds,
    else straight to 决定."""
    ref = f' camunda:decisionRef="{decision_ref}"' if decision_ref else ""
    return process(
        '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_file" name="立案"/>'
        f'<bpmn:businessRuleTask id="Rule_fine" name="裁量基准"{ref}/>'
        '<bpmn:exclusiveGateway id="Gateway_hearing" default="F_Gateway_hearing_Task_decide"/>'
        '<bpmn:userTask id="Task_hearing" name="听证告知"/>'
        '<bpmn:userTask id="Task_decide" name="决定"/><bpmn:endEvent id="End"/>'
        + seq(("Start_1", "Task_file"), ("Task_file", "Rule_fine"), ("Rule_fine", "Gateway_hearing"),
              ("Gateway_hearing", "Task_decide"), ("Task_hearing", "Task_decide"), ("Task_decide", "End"))
        + '<bpmn:sequenceFlow id="F_hearing" sourceRef="Gateway_hearing" targetRef="Task_hearing">'
          f'<bpmn:conditionExpression>{escape(hearing)}</bpmn:conditionExpression></bpmn:sequenceFlow>')


def street_to_department(department: str = "CA01") -> bytes:
    """A street accepts (its own 受理岗), the department reviews (`CA01:审查岗`), the street tells the applicant."""
    return process(
        '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_accept" name="街道受理"/>'
        '<bpmn:userTask id="Task_review" name="部门审查"/><bpmn:userTask id="Task_notify" name="街道告知"/>'
        '<bpmn:endEvent id="End"/>'
        + seq(("Start_1", "Task_accept"), ("Task_accept", "Task_review"), ("Task_review", "Task_notify"),
              ("Task_notify", "End")),
        lanes={"受理岗": ["Start_1", "Task_accept", "Task_notify", "End"], f"{department}:审查岗": ["Task_review"]})


def legal_review_flow(step: str = "法制审核") -> bytes:
    """The district's shared 法制审核 sub-flow (process id legal_review_flow): one step, then back to the caller."""
    return process('<bpmn:startEvent id="LR_start"/><bpmn:userTask id="LR_review" name="' + step + '"/>'
                   '<bpmn:endEvent id="LR_end"/>' + seq(("LR_start", "LR_review"), ("LR_review", "LR_end")),
                   pid="legal_review_flow")


def calls_legal_review(called: str = "legal_review_flow") -> bytes:
    """受理 → the shared 法制审核 sub-flow (a call activity to another definition) → 决定."""
    return process(
        '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_accept" name="受理"/>'
        f'<bpmn:callActivity id="Call_legal" name="法制审核" calledElement="{called}"/>'
        '<bpmn:userTask id="Task_decide" name="决定"/><bpmn:endEvent id="End"/>'
        + seq(("Start_1", "Task_accept"), ("Task_accept", "Call_legal"), ("Call_legal", "Task_decide"),
              ("Task_decide", "End")))
