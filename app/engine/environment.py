"""SpiffWorkflow's script seam, replaced: every condition, timer value and script goes to our evaluator."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import expressions


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates over task data plus the offered helpers; never reaches eval/exec."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None):
        super().__init__({})
        self.helpers = dict(helpers or {})

    def evaluate(self, expression, context, external_context=None):
        names = {**(external_context or {}), **context}
        return expressions.evaluate(expression, names, self.helpers)

    def execute(self, script, context, external_context=None):
        names = {**(external_context or {}), **context}
        context.update(expressions.execute(script, names, self.helpers))
        return True

    def call_service(self, context, **kwargs):
        raise expressions.ExpressionError("service calls are not available in Sunlight diagrams")


class SafeScriptEngine(PythonScriptEngine):
    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None):
        super().__init__(environment=SafeEnvironment(helpers))

    def validate(self, expression):
        expressions.check_expression(expression)
