"""Hostile requests at the doors (the hardening issue): clear 4xx answers, never a 500, on both databases."""
from __future__ import annotations

import pytest

from tests.world import build_world


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


@pytest.mark.parametrize("path", [
    "/public/api/v1/items?q=%00", "/public/api/v1/cases/%00?code=X", "/public/api/v1/items/%00",
    "/api/v1/cases/20260302-000001%00", "/?q=%00", "/items/%00", "/public/api/v1/items?%00=1",
])
def test_a_nul_byte_anywhere_in_the_address_is_a_400(world, path):
    status, body = world.api.get(path, "sup")
    assert status == 400, (path, body)
    if isinstance(body, dict):
        assert body["error"]["code"] == "malformed"


@pytest.mark.parametrize("path", ["/api/v1/definitions/2147483648", "/api/v1/definitions/99999999999999999999",
                                  "/api/v1/orders/2147483648", "/api/v1/notices/9223372036854775808/ack"])
def test_an_id_beyond_the_columns_range_is_simply_not_found(world, path):
    method = "POST" if path.endswith("/ack") else "GET"
    status, body = world.api.call(method, path, "sup")
    assert status == 404 and body["error"]["code"] == "not_found", body


def test_deeply_nested_json_is_refused_not_recursed(world):
    nested = {}
    node = nested
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    status, body = world.api.post("/api/v1/cases", "acc", {"item_code": "CA01-XK-0001", "applicant": {"name": "x"},
                                                           "data": nested})
    assert status == 400 and "nested" in body["error"]["message"]
    raw = "[" * 100000 + "]" * 100000  # past the parser's own recursion
    status, body = world.api.call("POST", "/api/v1/cases", "acc", data=raw, ctype="application/json")
    assert status == 400, body


@pytest.mark.parametrize("field, length", [("accepting_authority", 301), ("supervision_phone", 65),
                                           ("legal_basis", 5001)])
def test_text_longer_than_its_column_is_a_422_naming_the_field(world, field, length):
    status, body = world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "admin", json={field: "长" * length})
    assert status == 422 and body["error"]["details"] == [{"field": field}], body


def test_every_answer_carries_the_security_headers(world, app):
    client = app.test_client()
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    api = client.get("/api/v1/openapi.json")
    assert api.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_session_cookie_is_httponly_lax_and_secure_when_configured(sqlite_template, tmp_path):
    from tests.e2e.ui_support import give_passwords, login, make_app

    for secure in (False, True):
        (tmp_path / str(secure)).mkdir()
        app = make_app(tmp_path / str(secure), sqlite_template, SESSION_COOKIE_SECURE=secure)
        build_world(app)
        give_passwords(app)
        cookie = login(app.test_client(), "acc").headers.get("Set-Cookie", "")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and ("Secure" in cookie) is secure, cookie
        app.extensions["sunlight.db"].engine.dispose()
