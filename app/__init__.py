"""Sunlight (阳光运行): administrative powers run online, in the open, on BPMN and SpiffWorkflow."""
from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config

from .db import Database
from .served import AbortedRequests
from .settings import Settings


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(Config())
    app.config.update(overrides or {})
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:  # behind N reverse proxies: the client's address (rate limits) and scheme from their X-Forwarded-*
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0)
    app.extensions["sunlight.db"] = Database(app.config["DATABASE_URL"])
    app.extensions["sunlight.settings"] = Settings.from_config(app.config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # it logs every task state change at INFO

    from .api import register as register_api
    from .cli import register as register_cli
    from .subscribers import register_all as register_subscribers
    from .web import register as register_web

    register_subscribers()  # the rooms that react to case events (app/events.py)
    register_api(app)
    register_web(app)
    register_cli(app)
    # Outermost: a request stopped by gunicorn's worker timeout answers 503 JSON, not gunicorn's HTML (app/served.py)
    app.wsgi_app = AbortedRequests(app.wsgi_app)
    return app
