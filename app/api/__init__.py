"""The JSON API door (/api/v1 for staff, /public/api/v1 for everyone) and its error shape."""
from __future__ import annotations

from flask import Flask

from .errors import register_error_handlers
from .limits import limiter
from .public import public
from .staff import staff
from .supervision import supervision


def register(app: Flask) -> None:
    limiter.init_app(app)
    app.register_blueprint(staff)
    app.register_blueprint(public)
    app.register_blueprint(supervision)
    register_error_handlers(app)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}
