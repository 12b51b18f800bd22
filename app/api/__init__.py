"""The JSON API door (/api/v1 for staff, /public/api/v1 for everyone) and its error shape."""
from __future__ import annotations

from flask import Flask

from .errors import register_error_handlers
from .limits import limiter
from .public import public
from .staff import staff


def register(app: Flask) -> None:
    limiter.init_app(app)
    app.register_blueprint(staff)
    app.register_blueprint(public)
    register_error_handlers(app)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}
