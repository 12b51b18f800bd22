"""The only door to SpiffWorkflow. Everything else in Sunlight talks to these names."""
from .budget import Limits, limits_of
from .deploy_limits import MAX_POST
from .errors import (BpmnTooLarge, CannotMigrate, EngineError, InvalidBpmn, InvalidCaseData, NoWaitingCatch, Problem,
                     TaskNotFound, TaskNotReady, TooExpensive)
from .expressions import ExpressionError, check_expression, check_script, evaluate
from .features import BUILTIN_TOPICS, PUBLISH_DECISION, TELL_APPLICANT
from .migration import blockers as migration_blockers
from .migration import migrate
from .runtime import SERIALIZER_VERSION, CaseRun, Change, TaskView, Wait, check_data
from .specs import (Deployable, SharedFlow, SpecBundle, bundle_for, calls_outside, next_user_steps, sha256, user_steps,
                    validate)

__all__ = [
    "BUILTIN_TOPICS", "PUBLISH_DECISION", "TELL_APPLICANT",
    "BpmnTooLarge", "CannotMigrate", "Limits", "limits_of", "MAX_POST", "TooExpensive", "CaseRun", "Change", "Deployable", "EngineError", "ExpressionError", "InvalidBpmn",
    "InvalidCaseData", "NoWaitingCatch", "Problem", "Wait", "SERIALIZER_VERSION", "SharedFlow", "SpecBundle", "TaskNotFound", "calls_outside", "TaskNotReady", "TaskView",
    "bundle_for", "migrate", "migration_blockers", "next_user_steps", "check_data", "check_expression", "check_script", "evaluate", "sha256", "user_steps", "validate",
]
