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
from .validation import install as install_validation


def register(app: Flask) -> None:
    limiter.init_app(app)
    doors = (staff, public, supervision, migrations, calendar_api, definitions_diff, rules_api, files_api,
             assessment_api, decisions_api, bpmn_io)
    install_validation(app, *doors)  # every API request checked against the OpenAPI document first
    for bp in doors:
        app.register_blueprint(bp)
    register_error_handlers(app)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}
