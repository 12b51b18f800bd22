"""DMN decision tables (决策表, e.g. 行政处罚裁量基准) read and evaluated by Sunlight, never by SpiffWorkflow's DMN engine.

SpiffWorkflow builds Python text from the cells and hands it to its script engine (eval). Here each cell is
compiled once, at upload, into an expression of the safe subset — checked by the same AST allow-list as every
condition — and evaluated by the same evaluator (app/engine/expressions.py). A cell outside the subset refuses
the upload with 422 naming the decision, the rule, the column and the line.

Cells as Camunda Modeler writes them (FEEL-like unary tests), compiled against the column's input expression x:
  `-` or empty → any value          `< 1000`, `>= 10`, `!= "A"` → x < 1000 …    `[1..10]`, `(1..10]`, `]1..10[` → ranges
  `"A", "B"` → x is one of them      `not("A")` → not that                    `? > 3 and ? < 9` → ? is x
  anything else → x == (cell)        `true`, `false`, `null` → True, False, None
Output cells are expressions over the case data (`"高"`, `amount * 0.1`); an empty one gives null.
Hit policies: UNIQUE (the default: more than one matching rule is an error), FIRST, COLLECT (each output a list,
or its SUM, MIN, MAX or COUNT).
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from lxml import etree

from .errors import InvalidBpmn, OverBudget, Problem
from .expressions import BASE_HELPERS, RUNTIME_HELPERS, ExpressionError, check_expression, evaluate
from .xmlsafe import parse_untrusted

DMN_NAMESPACES = ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "https://www.omg.org/spec/DMN/20191111/MODEL/")
HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
MAX_RULES = 2000
_FEEL_WORDS = {"true": "True", "false": "False", "null": "None"}
_RANGE = re.compile(r"^([\[\]\(])\s*(.+?)\s*\.\.\s*(.+?)\s*([\[\]\)])$", re.S)
_COMPARISON = re.compile(r"^(<=|>=|<|>|==|!=|not\s+in\b|in\b)")
_NOT = re.compile(r"^not\s*\((.*)\)$", re.S)


class DecisionError(ValueError):
    """A decision that cannot be taken on this data (no value for an input, two rules of a UNIQUE table…)."""


@dataclass(frozen=True)
class Rule:
    id: str
    number: int  # 1-based, as the table shows it
    line: int | None
    tests: tuple[str | None, ...]  # compiled unary tests, None = any value
    outputs: tuple[str | None, ...]  # compiled output expressions, None = null
    texts: tuple[str, ...]  # the cells as typed (input cells, then output cells), for the review diff


@dataclass(frozen=True)
class DecisionTable:
    id: str
    name: str
    file: str
    hit_policy: str
    aggregation: str | None
    inputs: tuple[str, ...]  # input expressions as typed
    input_labels: tuple[str, ...]
    outputs: tuple[str, ...]  # output names: fields of the case data
    rules: tuple[Rule, ...]

    def describe(self) -> dict:
        """What the legal office reads: the table as text, rule by rule."""
        return {"id": self.id, "name": self.name, "file": self.file, "hit_policy": self.hit_policy,
                "aggregation": self.aggregation, "inputs": list(self.input_labels), "outputs": list(self.outputs),
                "rules": [{"id": r.id, "number": r.number, "text": rule_text(self, r)} for r in self.rules]}


def rule_text(table: DecisionTable, rule: Rule) -> str:
    """One rule as a line: `when amount: < 1000; kind: "A" then fine = 500`."""
    n = len(table.inputs)
    when = "; ".join(f"{label}: {text or '-'}" for label, text in zip(table.input_labels, rule.texts[:n]))
    then = "; ".join(f"{name} = {text or 'null'}" for name, text in zip(table.outputs, rule.texts[n:]))
    return f"when {when or '-'} then {then or '-'}"


# --- reading --------------------------------------------------------------------------------------------------
def read(files: list[tuple[str, bytes]], limit: int) -> dict[str, DecisionTable]:
    """Every decision table of the uploaded DMN files by decision id; InvalidBpmn naming each problem."""
    tables: dict[str, DecisionTable] = {}
    problems: list[Problem] = []
    for filename, data in files:
        found, more = _read_file(filename, data, limit)
        problems += more
        for table in found:
            if table.id in tables:
                problems.append(Problem(table.id, None, f"{filename}: decision id '{table.id}' is used twice "
                                                        f"(also in {tables[table.id].file})"))
            tables[table.id] = table
    if problems:
        raise InvalidBpmn(problems)
    return tables


def _read_file(filename: str, data: bytes, limit: int) -> tuple[list[DecisionTable], list[Problem]]:
    try:
        tree = parse_untrusted(data, limit, root_namespaces=DMN_NAMESPACES, kind="DMN")
        data.decode("utf-8")  # stored as text with the definition
    except InvalidBpmn as exc:
        return [], [Problem(p.element_id, p.line, f"{filename}: {p.message}") for p in exc.problems]
    except UnicodeDecodeError as exc:
        return [], [Problem(None, 1, f"{filename}: the file must be UTF-8 encoded ({exc.reason})")]
    ns = etree.QName(tree.getroot()).namespace
    tables, problems = [], []
    for decision in tree.getroot().findall(f"{{{ns}}}decision"):
        table = decision.find(f"{{{ns}}}decisionTable")
        if table is None:
            continue  # a literal-expression decision or a drawing: nothing to evaluate
        built, more = _table(filename, ns, decision, table)
        problems += more
        if built is not None:
            tables.append(built)
    if not tables and not problems:
        problems.append(Problem(None, tree.getroot().sourceline, f"{filename}: the file holds no decision table"))
    return tables, problems


def _text_of(el: etree._Element | None, ns: str) -> str:
    text = el.find(f"{{{ns}}}text") if el is not None else None
    return (text.text or "").strip() if text is not None else ""


def _where(decision_name: str, filename: str) -> str:
    return f"{filename}: decision '{decision_name}'"


def _table(filename: str, ns: str, decision, table) -> tuple[DecisionTable | None, list[Problem]]:
    did = decision.get("id") or ""
    name = decision.get("name") or did
    where, problems = _where(name, filename), []
    if not did:
        return None, [Problem(None, decision.sourceline, f"{where}: the decision has no id")]
    policy = (table.get("hitPolicy") or "UNIQUE").strip().upper()
    aggregation = (table.get("aggregation") or "").strip().upper() or None
    if policy not in HIT_POLICIES:
        problems.append(Problem(did, table.sourceline, f"{where}: hit policy '{policy}' is not supported; use "
                                                       "UNIQUE, FIRST or COLLECT"))
    if aggregation and (policy != "COLLECT" or aggregation not in AGGREGATIONS):
        problems.append(Problem(did, table.sourceline, f"{where}: aggregation '{aggregation}' needs hit policy "
                                                       f"COLLECT and one of {', '.join(AGGREGATIONS)}"))
    inputs = [i for i in table.findall(f"{{{ns}}}input")]
    outputs = [o for o in table.findall(f"{{{ns}}}output")]
    input_exprs = [_text_of(i.find(f"{{{ns}}}inputExpression"), ns) for i in inputs]
    labels = [i.get("label") or expr or i.get("id") or f"input {n}" for n, (i, expr) in enumerate(zip(inputs, input_exprs), 1)]
    names = [(o.get("name") or "").strip() for o in outputs]
    problems += _check_columns(did, where, inputs, input_exprs, labels, outputs, names)
    rules = table.findall(f"{{{ns}}}rule")
    if len(rules) > MAX_RULES:
        problems.append(Problem(did, table.sourceline, f"{where}: more than {MAX_RULES} rules"))
        rules = []
    built_rules = []
    for number, rule in enumerate(rules, 1):
        built, more = _rule(ns, where, number, rule, input_exprs, labels, names)
        problems += more
        built_rules.append(built)
    if problems:
        return None, problems
    return DecisionTable(did, name, filename, policy, aggregation, tuple(input_exprs), tuple(labels), tuple(names),
                         tuple(built_rules)), []


def _check_columns(did, where, inputs, input_exprs, labels, outputs, names) -> list[Problem]:
    problems = []
    for el, expr, label in zip(inputs, input_exprs, labels):
        if not expr:
            problems.append(Problem(did, el.sourceline, f"{where}: input '{label}' has no expression; name the case "
                                                        "field it reads, e.g. amount"))
            continue
        try:
            check_expression(feel_literals(expr))
        except ExpressionError as exc:
            problems.append(Problem(did, el.sourceline, f"{where}: input '{label}' expression '{expr[:200]}' is "
                                                        f"refused: {exc.message}"))
    if not outputs:
        problems.append(Problem(did, None, f"{where}: the table has no output column"))
    for el, name in zip(outputs, names):
        if not name.isidentifier() or name.startswith("_") or name == "typename" or name in BASE_HELPERS \
                or name in RUNTIME_HELPERS:
            label = el.get("label") or el.get("id") or "?"
            problems.append(Problem(did, el.sourceline, f"{where}: output '{label}' needs a name that is a field of "
                                                        "the case data (letters, digits and _, e.g. fine)"))
    if len(set(names)) != len(names):
        problems.append(Problem(did, None, f"{where}: two output columns have the same name"))
    return problems


def _rule(ns, where, number, rule, input_exprs, labels, names) -> tuple[Rule, list[Problem]]:
    rid = rule.get("id") or f"rule {number}"
    entries = rule.findall(f"{{{ns}}}inputEntry")
    results = rule.findall(f"{{{ns}}}outputEntry")
    problems, tests, outs = [], [], []
    here = f"{where}, rule {number} ({rid})"
    if len(entries) != len(input_exprs) or len(results) != len(names):
        problems.append(Problem(rid, rule.sourceline, f"{here}: the rule has {len(entries)} input and "
                                                      f"{len(results)} output cells for {len(input_exprs)} inputs and "
                                                      f"{len(names)} outputs"))
    for entry, expr, label in zip(entries, input_exprs, labels):
        text = _text_of(entry, ns)
        try:
            tests.append(compile_test(text, expr))
        except ExpressionError as exc:
            problems.append(Problem(rid, entry.sourceline, f"{here}, input '{label}': '{text[:200]}' is refused: "
                                                           f"{exc.message}"))
    for entry, name in zip(results, names):
        text = _text_of(entry, ns)
        try:
            outs.append(compile_output(text))
        except ExpressionError as exc:
            problems.append(Problem(rid, entry.sourceline, f"{here}, output '{name}': '{text[:200]}' is refused: "
                                                           f"{exc.message}"))
    texts = tuple(_text_of(e, ns) for e in entries) + tuple(_text_of(e, ns) for e in results)
    return Rule(rid, number, rule.sourceline, tuple(tests), tuple(outs), texts), problems


# --- compiling cells --------------------------------------------------------------------------------------------
def feel_literals(text: str) -> str:
    """FEEL's true/false/null as Python's, outside string literals (tokenize keeps strings whole)."""
    if not any(word in text for word in _FEEL_WORDS):
        return text
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text  # the checker will say what is wrong with it
    out, last = [], (1, 0)
    lines = text.splitlines(keepends=True) or [""]
    for tok in tokens:
        if tok.type == tokenize.ENDMARKER:
            break
        out.append(_between(lines, last, tok.start))
        out.append(_FEEL_WORDS.get(tok.string, tok.string) if tok.type == tokenize.NAME else tok.string)
        last = tok.end
    return "".join(out)


def _between(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    """The text between two token positions (whitespace and line breaks, kept as typed)."""
    (r1, c1), (r2, c2) = start, end
    if r1 == r2:
        return lines[r1 - 1][c1:c2] if r1 - 1 < len(lines) else ""
    return lines[r1 - 1][c1:] + "".join(lines[r1:r2 - 1]) + (lines[r2 - 1][:c2] if r2 - 1 < len(lines) else "")


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets and quotes (`"A", "B"` is a list of two tests)."""
    parts, depth, quote, current = [], 0, None, []
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _replace_marker(text: str, value: str) -> str:
    """`?` outside quotes stands for the input value."""
    out, quote = [], None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "?":
            out.append(value)
            continue
        out.append(ch)
    return "".join(out)


def _test(text: str, x: str) -> str:
    """One unary test against the input expression x, as a safe-subset expression."""
    negated = _NOT.match(text)
    if negated:
        inner = negated.group(1).strip()
        return f"not ({_test(inner, x)})" if inner not in ("", "-") else "False"
    parts = _split_top(text)
    if len(parts) > 1:
        return " or ".join(f"({_test(p, x)})" for p in parts if p)
    span = _RANGE.match(text)
    if span:
        low, high = span.group(2), span.group(3)
        low_op = "<=" if span.group(1) == "[" else "<"
        high_op = "<=" if span.group(4) == "]" else "<"
        return f"({low}) {low_op} {x} {high_op} ({high})"
    if _replace_marker(text, "\0") != text:  # a `?` outside quotes
        return _replace_marker(text, x)
    if _COMPARISON.match(text):
        return f"{x} {text}"
    return f"{x} == ({text})"


def compile_test(text: str, input_expr: str) -> str | None:
    """A unary-test cell as an expression of the safe subset (None: any value); ExpressionError if refused."""
    text = (text or "").strip()
    if text in ("", "-"):
        return None
    compiled = _test(feel_literals(text), f"({feel_literals(input_expr)})")
    check_expression(compiled)
    return compiled


def compile_output(text: str) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    compiled = feel_literals(text)
    check_expression(compiled)
    return compiled


# --- evaluating ---------------------------------------------------------------------------------------------------
def decide(table: DecisionTable, data: Mapping[str, Any], helpers: Mapping[str, Callable[..., Any]]) -> dict:
    """The table's outputs for this data, by its hit policy; DecisionError saying which rule and cell failed."""
    matched = []
    for rule in table.rules:
        if _matches(table, rule, data, helpers):
            matched.append(rule)
            if table.hit_policy == "FIRST":
                break
    if table.hit_policy == "UNIQUE" and len(matched) > 1:
        numbers = ", ".join(str(r.number) for r in matched)
        raise DecisionError(f"decision '{table.name}': rules {numbers} all match, but its hit policy UNIQUE "
                            "allows one; fix the table or use FIRST")
    results = [_outputs(table, rule, data, helpers) for rule in matched]
    if table.hit_policy != "COLLECT":
        return results[0] if results else {name: None for name in table.outputs}
    collected = {name: [r[name] for r in results] for name in table.outputs}
    if table.aggregation:
        return {name: _aggregate(table, values) for name, values in collected.items()}
    return collected


def _matches(table: DecisionTable, rule: Rule, data, helpers) -> bool:
    for n, test in enumerate(rule.tests):
        if test is None:
            continue
        try:
            if not evaluate(test, data, helpers):
                return False
        except OverBudget:
            raise
        except ExpressionError as exc:
            raise DecisionError(f"decision '{table.name}', rule {rule.number}, input '{table.input_labels[n]}': "
                                f"{exc.message}") from None
    return True


def _outputs(table: DecisionTable, rule: Rule, data, helpers) -> dict:
    out = {}
    for name, expression in zip(table.outputs, rule.outputs):
        try:
            out[name] = evaluate(expression, data, helpers) if expression else None
        except OverBudget:
            raise
        except ExpressionError as exc:
            raise DecisionError(f"decision '{table.name}', rule {rule.number}, output '{name}': "
                                f"{exc.message}") from None
    return out


def _aggregate(table: DecisionTable, values: list) -> Any:
    if table.aggregation == "COUNT":
        return len(values)
    present = [v for v in values if v is not None]
    if not present:
        return None
    try:
        return {"SUM": sum, "MIN": min, "MAX": max}[table.aggregation](present)
    except TypeError:
        raise DecisionError(f"decision '{table.name}': {table.aggregation} needs numbers, got {present!r}"[:300]) \
            from None
