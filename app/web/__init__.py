"""The pages people use (server-rendered Jinja): the public online hall, sign-in, and the staff pages.

Thin, like the JSON doors: parse the form, call the same services the API calls, render. Sessions are
Flask's signed cookies; every form carries a CSRF token (Flask-WTF), checked for this blueprint only — the
JSON API blueprints take bearer tokens and are never touched. Simplified Chinese by default, English with
`?lang=en` (see i18n.py).
"""
from __future__ import annotations

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
web = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/assets")

# The views attach themselves to `web` on import.
from . import (pages_public, pages_clerk, pages_design, pages_review, pages_supervision,  # noqa: E402,F401
               pages_calendar, pages_assessment, pages_search, pages_inbox, pages_disclosure,
               pages_tokens)
from .common import install  # noqa: E402


def register(app: Flask) -> None:
    # CSRF is checked in web's own before_request (common.install), so no API blueprint, present or
    # future, needs an exemption; the JSON doors authenticate with bearer tokens, not cookies.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    app.config.setdefault("LOGIN_RATE", "10/minute")
    csrf.init_app(app)
    install(app)
    app.register_blueprint(web)
