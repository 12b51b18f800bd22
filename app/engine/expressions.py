"""The one safe evaluator for gateway conditions, timer values and script-task assignments.

SpiffWorkflow's own engine runs these with plain eval/exec and full builtins, which is escapable
(`().__class__.__base__.__subclasses__()` reaches os.system). Here an expression is first checked
against a small AST allow-list — data names, literals, operators, subscripts and calls to the offered
helpers, nothing else — and only the checked tree is then evaluated by simpleeval, which walks the AST
itself (no eval, no exec) and bounds powers, string sizes and shifts. The same check runs at deploy
time (refusing the diagram with the element named) and at run time (so nothing unchecked can run).
"""
from __future__ import annotations

import ast
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

import simpleeval

from . import budget
from .errors import ExpressionError, OverBudget

MAX_EXPRESSION_LENGTH = 4000
MAX_NODES = 400
MAX_DEPTH = 40  # simpleeval recurses per node: a deep tree could exhaust the stack under the engine's own frames
MAX_INT_BITS = 14_000  # ~4,200 digits: longer ints can be neither printed nor stored (JSON), and products take seconds
# Items + characters a value may expand to when printed or stored. Walking a value to count them is Python-level
# work (~2 µs an item), so this also bounds the time one operation can take between two budget checks.
MAX_SIZE = simpleeval.MAX_STRING_LENGTH
CHECK_EVERY = 4096  # items walked between two looks at the action's deadline
MAX_ROUND_DIGITS = 100  # round(123, -10**7) builds 10**(10**7) and takes seconds

_ALLOWED_NODES = (
    ast.Expression, ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.Store, ast.Load,
    ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
    ast.IfExp, ast.Call, ast.Name, ast.Constant, ast.Subscript, ast.Slice,
    ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr, ast.FormattedValue,
)

_NODE_WORDS = {
    ast.Attribute: "attribute access (x.y) is not allowed; use x['y'] for data fields",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed", ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed", ast.GeneratorExp: "generator expressions are not allowed",
    ast.NamedExpr: "':=' is not allowed", ast.Starred: "'*' unpacking is not allowed",
    ast.Import: "import is not allowed", ast.ImportFrom: "import is not allowed",
    ast.keyword: "keyword arguments are not allowed",
}


def _round(x: Any, n: int | None = None) -> Any:
    if n is None:
        return round(x)  # a whole number, so f"PT{round(h)}H" stays a valid duration
    if not isinstance(n, int) or abs(n) > MAX_ROUND_DIGITS:
        raise ExpressionError(f"round(x, n) needs a whole number n between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}")
    return round(x, n)


def _sum(values: Any, *start: Any) -> Any:
    if start:  # sum(lists, []) concatenates quadratically
        raise ExpressionError("sum takes one list of numbers, like sum(amounts)")
    return sum(values)


def _str(value: Any) -> str:
    return str(_bounded(value))


# The helpers an expression may call. Everything is a plain function of its arguments.
BASE_HELPERS: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "abs": abs, "round": _round, "sum": _sum,
    "int": int, "float": float, "str": _str, "bool": bool, "any": any, "all": all, "sorted": sorted,
    "ceil": math.ceil, "floor": math.floor,
}

# Names of helpers that only the runtime can provide (bound to the calendar and clock of a case).
RUNTIME_HELPERS = frozenset({"workdays"})


def _bounded(value: Any) -> Any:
    """Return the value if it is plain data small enough to print and store; otherwise refuse it.

    Shared references count every time (`[[1]*9999]*9999` is 10**8 items once printed), and the walk stops
    as soon as the budget is spent, so the check itself stays cheap.
    """
    size, stack, walked = 0, [value], 0
    while stack:
        item = stack.pop()
        walked += 1
        if walked % CHECK_EVERY == 0:
            budget.check()
        if callable(item):
            raise ExpressionError("a function is not a value; call it, like len(x)")
        if isinstance(item, int) and item.bit_length() > MAX_INT_BITS:
            raise OverBudget(f"a number has more than {MAX_INT_BITS} bits")
        size += 1 + (len(item) if isinstance(item, str) else item.bit_length() // 3 if isinstance(item, int) else 0)
        if size > MAX_SIZE:
            raise OverBudget(f"a value would be larger than {MAX_SIZE} items and characters")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
    return value


def _too_long(length: int) -> None:
    """Refuse a sequence before it is built: building it is one C-level operation no budget check can stop."""
    if length > MAX_SIZE:
        raise OverBudget(f"a value would be larger than {MAX_SIZE} items and characters")


def _mult(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise OverBudget(f"a product would have more than {MAX_INT_BITS} bits")
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            _too_long(len(seq) * times)
    return _bounded(simpleeval.safe_mult(a, b))


def _power(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and a.bit_length() * b > MAX_INT_BITS + b:
        raise OverBudget(f"a power would have more than {MAX_INT_BITS} bits")
    return _bounded(simpleeval.safe_power(a, b))


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, (str, list, tuple)) and isinstance(b, (str, list, tuple)):
        _too_long(len(a) + len(b))
    return _bounded(simpleeval.safe_add(a, b))


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, (str, bytes)):  # '%099999999d' % 1 builds a 100 MB string
        raise ExpressionError("text formatting with % is not allowed; use an f-string like f\"PT{hours}H\"")
    return a % b


_OPERATORS = {**simpleeval.DEFAULT_OPERATORS, ast.Mult: _mult, ast.Pow: _power, ast.Add: _add, ast.Mod: _mod}


def _syntax_hint(text: str) -> str:
    """Designers paste conditions from other engines; say which language it looks like."""
    text = text.strip()
    if text.startswith(("${", "#{")):
        return " (this looks like a Camunda JUEL expression: write the bare condition, e.g. approved == True)"
    if text.startswith("="):
        return " (this looks like a FEEL expression: drop the leading '=' and write e.g. approved == True)"
    if "getDataObject" in text:
        return " (this looks like an XPath expression: write e.g. approved == True)"
    if re.search(r"(?<![=!<>])=(?!=)", text):
        return " (to compare, write '==', not '=')"
    return ""


@dataclass(frozen=True)
class Checked:
    tree: ast.AST
    kind: str  # "expression" or "script"
    assigned: tuple[str, ...] = ()


def _parse(text: str, mode: str) -> ast.AST:
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        return ast.parse(text.strip(), mode=mode)
    except SyntaxError as exc:
        hint = _syntax_hint(text) if mode == "eval" else ""
        raise ExpressionError(f"syntax error: {exc.msg}{hint}", exc.lineno) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is too deeply nested or not valid text") from None


def _walk(tree: ast.AST):
    """ast.walk with a node budget and a depth limit (yields each node once)."""
    count, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"the expression has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
        yield node


def _check_tree(tree: ast.AST, helpers: frozenset[str]) -> None:
    called: set[int] = set()  # a Call is visited before its function name (see _walk)
    for node in _walk(tree):
        line = getattr(node, "lineno", None)
        if isinstance(node, ast.Call):
            called.add(id(node.func))
        if not isinstance(node, _ALLOWED_NODES):
            word = _NODE_WORDS.get(type(node), f"'{type(node).__name__}' is not allowed in an expression")
            raise ExpressionError(word, line)
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(f"the name '{node.id}' is not allowed (no leading underscore)", line)
        if isinstance(node, ast.Name) and node.id in helpers and id(node) not in called:
            raise ExpressionError(f"'{node.id}' is a function; call it, like {node.id}(x)", line)
        if isinstance(node, ast.Call):
            offered = ", ".join(sorted(helpers))
            if isinstance(node.func, ast.Attribute):
                raise ExpressionError(f"method calls like x.{node.func.attr}() are not allowed; only the offered "
                                      f"functions can be called ({offered})", line)
            if not isinstance(node.func, ast.Name) or node.func.id not in helpers:
                name = node.func.id if isinstance(node.func, ast.Name) else "this"
                raise ExpressionError(f"'{name}' is not an offered function (offered: {offered})", line)
        if isinstance(node, ast.Dict) and None in node.keys:
            raise ExpressionError("'**' unpacking is not allowed", line)
        if isinstance(node, ast.Constant) and isinstance(node.value, (bytes, complex)):
            raise ExpressionError("bytes and complex literals are not allowed", line)
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            raise ExpressionError("format specifications in f-strings are not allowed", line)


@lru_cache(maxsize=4096)
def check_expression(text: str, extra_helpers: frozenset[str] = RUNTIME_HELPERS) -> Checked:
    """Parse and allow-list one expression; raise ExpressionError saying what is wrong."""
    tree = _parse(text, "eval")
    _check_tree(tree, frozenset(BASE_HELPERS) | extra_helpers)
    return Checked(tree.body, "expression")


@lru_cache(maxsize=1024)
def check_script(text: str, extra_helpers: frozenset[str] = RUNTIME_HELPERS) -> Checked:
    """A script task: one or more `name = expression` (or `name += expression`) lines."""
    tree = _parse(text, "exec")
    assigned: list[str] = []
    for stmt in tree.body:
        line = stmt.lineno
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AugAssign):
            targets = [stmt.target]
        else:
            raise ExpressionError("a script may only hold assignments like `fee = area * 2`", line)
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            raise ExpressionError("assign to one plain name per line, like `fee = area * 2`", line)
        assigned.append(targets[0].id)
    _check_tree(tree, frozenset(BASE_HELPERS) | extra_helpers)
    return Checked(tree, "script", tuple(assigned))


class _Evaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval's tree walk, charging every node to the action's budget."""

    def _eval(self, node):
        budget.check()
        return super()._eval(node)


def _evaluator(names: Mapping[str, Any], helpers: Mapping[str, Callable[..., Any]]) -> simpleeval.SimpleEval:
    ev = _Evaluator(operators=_OPERATORS, names=dict(names), functions={**BASE_HELPERS, **helpers})
    ev.ATTR_INDEX_FALLBACK = False
    for kind in (ast.List, ast.Tuple, ast.Dict, ast.Set):  # [a, a, a, …] of a large `a` skips the operators
        ev.nodes[kind] = lambda node, build=ev.nodes[kind]: _bounded(build(node))
    return ev


def _run(ev: simpleeval.SimpleEval, text: str, node: ast.AST) -> Any:
    try:
        return _bounded(ev.eval(text, previously_parsed=node))
    except ExpressionError:
        raise
    except simpleeval.NameNotDefined as exc:
        raise ExpressionError(f"'{exc.name}' is not defined in the case data") from None
    except (simpleeval.IterableTooLong, simpleeval.NumberTooHigh) as exc:
        raise OverBudget(str(exc)) from None
    except simpleeval.InvalidExpression as exc:
        raise ExpressionError(str(exc)) from None
    except (TypeError, ValueError, LookupError, ArithmeticError, AttributeError) as exc:
        raise ExpressionError(f"{type(exc).__name__}: {exc}") from None
    except (RecursionError, MemoryError):  # bounded above; never let these reach the engine
        raise OverBudget("the expression is too large to evaluate") from None


def evaluate(text: str, data: Mapping[str, Any], helpers: Mapping[str, Callable[..., Any]] | None = None) -> Any:
    """Evaluate a checked expression over case data and helpers."""
    helpers = helpers or {}
    checked = check_expression(text, frozenset(helpers) | RUNTIME_HELPERS)
    with _charged():
        return _run(_evaluator(data, helpers), text, checked.tree)


def execute(text: str, data: Mapping[str, Any], helpers: Mapping[str, Callable[..., Any]] | None = None) -> dict[str, Any]:
    """Run a checked script; returns the names it assigned (the caller merges them into the data)."""
    helpers = helpers or {}
    checked = check_script(text, frozenset(helpers) | RUNTIME_HELPERS)
    with _charged():
        return _execute(checked, text, data, helpers)


@contextmanager
def _charged():
    """Charge to the action's budget; a call outside any action (a test, a tool) gets a budget of its own."""
    if budget.current() is not None:
        yield
    else:
        with budget.spending(budget.Budget()):
            yield


def _execute(checked: Checked, text: str, data: Mapping[str, Any], helpers) -> dict[str, Any]:
    scope = dict(data)
    result: dict[str, Any] = {}
    for stmt in checked.tree.body:  # type: ignore[attr-defined]
        ev = _evaluator(scope, helpers)
        value = _run(ev, text, stmt.value)
        name = stmt.targets[0].id if isinstance(stmt, ast.Assign) else stmt.target.id
        if isinstance(stmt, ast.AugAssign):
            if name not in scope:
                raise ExpressionError(f"'{name}' is not defined in the case data", stmt.lineno)
            value = _run(_evaluator({"a": scope.get(name), "b": value}, {}), text,
                         ast.BinOp(left=ast.Name("a", ast.Load()), op=stmt.op, right=ast.Name("b", ast.Load())))
        if not _finite(value):
            raise ExpressionError(f"'{name}' would not be a finite number (inf or nan cannot be stored)", stmt.lineno)
        scope[name] = result[name] = value
    return result


def _finite(value: Any) -> bool:
    """No inf/nan anywhere in a value: JSON (the blob, the API) has no way to write them."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (list, tuple, set)):
        return all(_finite(v) for v in value)
    return True
