"""Shared by the page tests: an app on a migrated SQLite copy with the test world (users with passwords), a
real waitress server on a free loopback port in a thread, and headless Debian Chromium driven by Playwright."""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from app.orgs.models import User
from tests.world import build_world

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VENDOR = ROOT / "app" / "web" / "static" / "vendor" / "bpmn-js" / "bpmn-navigated-viewer.production.min.js"
PASSWORD = "sunlight-test"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"]
_HASH: list[str] = []


def password_hash() -> str:
    if not _HASH:  # argon2 is slow by design: hash once per test process
        from argon2 import PasswordHasher
        _HASH.append(PasswordHasher().hash(PASSWORD))
    return _HASH[0]


def make_app(tmp_path: Path, template: Path, **overrides):
    from app import create_app

    path = tmp_path / "ui.db"
    shutil.copy(template, path)
    config = {"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "ui-test-secret", "TESTING": True,
              "PUBLIC_QUERY_RATE": "1000/minute", "LOGIN_RATE": "1000/minute",
              "FILE_STORAGE_DIR": str(tmp_path / "files")}
    config.update(overrides)
    return create_app(config)


def give_passwords(app) -> None:
    with app.extensions["sunlight.db"].unit_of_work() as s:
        for user in s.query(User).all():
            user.password_hash = password_hash()


@pytest.fixture
def ui_app(sqlite_template, tmp_path):
    application = make_app(tmp_path, sqlite_template)
    yield application
    application.extensions["sunlight.db"].engine.dispose()


@pytest.fixture
def ui_world(ui_app):
    world = build_world(ui_app)
    give_passwords(ui_app)
    return world


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_of(page)})


# --- the real server and the browser -------------------------------------------------------------------------
@pytest.fixture
def live_server(ui_app, ui_world):
    from waitress import create_server

    server = create_server(ui_app, host="127.0.0.1", port=0, threads=4, clear_untrusted_proxy_headers=True)

    def serve():
        try:
            server.run()
        except (OSError, ValueError):  # close() below pulls the socket from under select(): the expected end
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no browser at {CHROMIUM}: install Debian's chromium (`make test` does it where it can) "
                    "to run the browser tests")
    if not VENDOR.exists():
        pytest.skip("the front-end assets are not installed: run `make assets` (npm ci + copy of the bpmn-js bundles)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        # Chromium never runs under libfaketime (`faketime … make test` proves the suite date-proof; its
        # LD_PRELOAD breaks the browser's own timers): the pages' time is the app's, which the tests control.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, env=env)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # A script or style the Content-Security-Policy blocked is an error too: the page would be broken for users.
    pg.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    pg.js_errors = errors
    yield pg
    context.close()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(pg, base: str, username: str) -> None:
    pg.goto(f"{base}/login")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("#login-form button[type=submit]")
    pg.wait_for_load_state()


def sign_out(pg) -> None:
    pg.click("header form button[type=submit]")
    pg.wait_for_load_state()


def wait_diagram(pg, selector: str = "#diagram") -> None:
    pg.wait_for_selector(f"{selector}[data-ready=true]")
