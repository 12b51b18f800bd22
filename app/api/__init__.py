"""The JSON API door (/api/v1 for staff, /public/api/v1 for everyone) and its error shape."""
from __future__ import annotations

from flask import Flask

from .assessment import assessment_api
from .bpmn_io import bpmn_io
from .calendar import calendar_api
from .decisions import decisions_api
from .definitions_diff import definitions_diff
from .errors import register_error_handlers
from .files import files_api
from .limits import limiter
from .migrations import migrations
from .public import public
from .rules import rules_api
from .staff import staff
from .supervision import supervision


def register(app: Flask) -> None:
    limiter.init_app(app)
    app.register_blueprint(staff)
    app.register_blueprint(public)
    app.register_blueprint(supervision)
    app.register_blueprint(migrations)
    app.register_blueprint(calendar_api)
    app.register_blueprint(definitions_diff)
    app.register_blueprint(rules_api)
    app.register_blueprint(files_api)
    app.register_blueprint(assessment_api)
    app.register_blueprint(decisions_api)
    app.register_blueprint(bpmn_io)
    register_error_handlers(app)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}
