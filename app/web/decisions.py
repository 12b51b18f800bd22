"""The decision fields of a step's form, read from the diagram: the names the gateways after it test.

A step followed (directly, or through other gateways) by an exclusive/inclusive gateway whose conditions say
`approved == True` or `amount > 1000 and not urgent` gets a yes/no field `approved`, a number field `amount`
and a yes/no field `urgent`. The values go to the same `complete_task` the API calls.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from lxml import etree

from app.engine.xmlsafe import BPMN_NS, parse_untrusted

NS = {"b": BPMN_NS}
GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "complexGateway"}
RESERVED = {"True", "False", "None", "and", "or", "not", "workdays"}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "bool" | "number" | "text"
    label: str  # the gateway's name as drawn (e.g. 审查通过？), else the variable's name
    yes: str | None = None  # a yes/no question's answers as the flows are named (齐全 / 不齐全), if they are
    no: str | None = None


def fields_for(xml: str | bytes, bpmn_id: str, limit: int = 16 * 1024 * 1024) -> list[Field]:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = parse_untrusted(data, limit).getroot()
    flows = {f.get("id"): f for f in root.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    by_id = {el.get("id"): el for el in root.iter(etree.Element) if el.get("id")}
    outgoing: dict[str, list] = {}
    for f in flows.values():
        outgoing.setdefault(f.get("sourceRef"), []).append(f)
    found: dict[str, str] = {}
    labels: dict[str, str] = {}
    answers: dict[str, tuple[str | None, str | None]] = {}
    seen, frontier = {bpmn_id}, [f.get("targetRef") for f in outgoing.get(bpmn_id, [])]
    while frontier:
        node_id = frontier.pop(0)
        node = by_id.get(node_id)
        if node_id in seen or node is None or etree.QName(node).localname not in GATEWAYS | {"parallelGateway"}:
            continue
        seen.add(node_id)
        for f in outgoing.get(node_id, []):
            cond = f.find("b:conditionExpression", NS)
            if cond is not None and (cond.text or "").strip():
                names = _names(cond.text.strip())
                for name, kind in names:
                    if found.get(name) in (None, "text"):
                        found[name] = kind
                    labels.setdefault(name, (node.get("name") or "").strip() or name)
                if len(names) == 1 and names[0][1] == "bool":
                    answers.setdefault(names[0][0], _answers(node, f, flows, cond.text.strip()))
            frontier.append(f.get("targetRef"))
    return [Field(n, k, labels[n], *answers.get(n, (None, None))) for n, k in found.items()]


def _answers(gateway, flow, flows: dict, condition: str) -> tuple[str | None, str | None]:
    """(yes, no) as the designer named the two ways out of a yes/no gateway: the flow whose condition tests the
    name, and the gateway's default flow (`x == True` → 齐全 / 不齐全; `x == False` swaps them)."""
    mine = (flow.get("name") or "").strip() or None
    default = flows.get(gateway.get("default"))
    other = (default.get("name") or "").strip() or None if default is not None and default is not flow else None
    negative = "False" in condition or condition.startswith("not ")
    return (other, mine) if negative else (mine, other)


def _names(expression: str) -> list[tuple[str, str]]:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return []
    out: list[tuple[str, str]] = []
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            consts = [s.value for s in sides if isinstance(s, ast.Constant)]
            kind = ("bool" if any(isinstance(c, bool) for c in consts) else
                    "number" if any(isinstance(c, (int, float)) for c in consts) else "text")
            out += [(s.id, kind) for s in sides if isinstance(s, ast.Name) and s.id not in RESERVED]
    for node in ast.walk(tree):  # a bare name (`urgent`, `not urgent`) is a yes/no question
        if isinstance(node, ast.Name) and node.id not in RESERVED and id(node) not in called \
                and node.id not in {n for n, _ in out}:
            out.append((node.id, "bool"))
    return out


def parse_values(fields: list[Field], form) -> dict:
    """The form's answers as case data: yes/no → True/False, numbers → int/float; empty ones left out."""
    data: dict = {}
    for f in fields:
        raw = (form.get(f"field_{f.name}") or "").strip()
        if not raw:
            continue
        if f.kind == "bool":
            data[f.name] = raw in ("1", "true", "yes", "on")
        elif f.kind == "number":
            try:
                data[f.name] = int(raw)
            except ValueError:
                try:
                    data[f.name] = float(raw)
                except ValueError:
                    raise ValueError(f.name) from None
        else:
            data[f.name] = raw[:1000]
    return data
