"""Hostile requests at the doors (the hardening issue): clear 4xx answers, never a 500, on both databases."""
from __future__ import annotations

import re

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


@pytest.mark.parametrize("path, field", [
    ("/api/v1/definitions/2147483648", "definition_id"), ("/api/v1/definitions/99999999999999999999", "definition_id"),
    ("/api/v1/orders/2147483648", "order_id"), ("/api/v1/notices/9223372036854775808/ack", "notice_id")])
def test_an_id_beyond_the_columns_range_is_refused_naming_it(world, path, field):
    """The document states every id's range (maximum 2147483647): the validation layer refuses it, 422."""
    method = "POST" if path.endswith("/ack") else "GET"
    status, body = world.api.call(method, path, "sup")
    assert status == 422 and body["error"]["details"] == [{"field": field}], body


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


def test_the_public_lookups_share_one_budget_per_address(world, app):
    app.config["PUBLIC_QUERY_RATE"] = "4/minute"
    client = app.test_client()
    codes = [client.get("/public/api/v1/cases/20260101-000001?code=X").status_code for _ in range(2)]
    codes += [client.post("/public/api/v1/cases/20260101-000001/rating", json={"code": "X", "score": 5}).status_code
              for _ in range(2)]
    codes.append(client.get("/public/api/v1/cases/20260101-000002?code=Y").status_code)
    assert codes == [404, 404, 404, 404, 429]  # three doors, one budget


def test_the_lookups_fail_safe_when_the_limiter_store_is_down(sqlite_template, tmp_path):
    from tests.e2e.ui_support import make_app

    app = make_app(tmp_path, sqlite_template, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")  # nothing listens
    client = app.test_client()
    resp = client.get("/public/api/v1/cases/20260101-000001?code=X")
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "rate_limit_unavailable"
    assert client.get("/public/api/v1/items").status_code == 200  # what is not limited keeps working
    page = client.get("/progress")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.post("/progress", data={"csrf_token": token, "case_no": "x", "code": "y"}).status_code == 503
    app.extensions["sunlight.db"].engine.dispose()


def test_a_formula_in_an_item_name_is_text_in_the_open_data_csv(world):
    status, _ = world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "admin",
                               json={"name": '=HYPERLINK("http://evil.example","点我")', "fee": "+1+1"})
    assert status == 200
    status, text = world.api.get("/public/api/v1/items.csv")
    assert status == 200
    assert "'=HYPERLINK(" in text and "'+1+1" in text and ',=HYPERLINK' not in text


def test_search_takes_percent_and_underscore_literally(world):
    assert world.api.get("/public/api/v1/items?q=%25")[1]["total"] == 0  # "%" matches no name, not every name
    assert world.api.get("/public/api/v1/items?q=_")[1]["total"] == 0
    assert world.api.get("/public/api/v1/items?q=食品")[1]["total"] == 1


def test_the_acknowledge_form_never_redirects_off_site(world, app):
    from tests.e2e.ui_support import csrf_of, give_passwords, login

    give_passwords(app)
    client = app.test_client()
    login(client, "acc")
    token = csrf_of(client.get("/work").get_data(as_text=True))
    for back in ("/\t/evil.example", "//evil.example", "https://evil.example/", "/\\evil.example", "/\n/evil.example"):
        resp = client.post("/notices/999/ack", data={"csrf_token": token, "back": back})
        assert resp.status_code in (302, 404)
        assert "evil.example" not in resp.headers.get("Location", ""), back


def test_a_zip_bomb_is_not_an_ofd_document(world):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
        for i in range(3):  # 3 × 100 MiB of zeros: a few hundred kilobytes packed
            with zf.open(f"Doc_0/Res/{i}.bin", "w") as member:
                chunk = bytes(1 << 20)
                for _ in range(100):
                    member.write(chunk)
    assert len(buf.getvalue()) < 2 * 1024 * 1024
    status, body = world.api.call("POST", "/api/v1/files", "acc", data={"file": (io.BytesIO(buf.getvalue()), "x.ofd")},
                                  ctype="multipart/form-data")
    assert status == 415 and "zip bomb" in body["error"]["message"]


def test_a_departments_admin_administers_that_department_only(world, app):
    from app.orgs import service as orgs

    with app.extensions["sunlight.db"].unit_of_work() as s:
        for name, org in (("admin02", "CA02"), ("designer02", "CA02")):
            world.tokens[name] = orgs.issue_token(s, orgs.create_user(s, name, "admin" if name.startswith("admin")
                                                                      else "designer", org, [], None, "t"), "t")
    item = "/api/v1/items/CA01-XK-0001"
    assert world.api.post(f"{item}/suspend", "admin02", {"reason": "x"})[0] == 404
    assert world.api.call("PATCH", item, "admin02", json={"warn_days": 2})[0] == 404
    assert world.api.call("PUT", "/api/v1/calendar/2099", "admin02", json={"holidays": [], "workdays": [],
                                                                         "source": "x"})[0] == 403
    assert world.api.call("PUT", "/api/v1/rules/R01", "admin02", json={"enabled": False})[0] == 403
    status, _ = world.api.post(f"/api/v1/definitions/{world.definition_id}/migrations", "admin02", {"dry_run": True})
    assert status == 404  # not even the list of another department's running cases
    assert world.api.get(f"/api/v1/definitions/{world.definition_id}", "designer02")[0] == 404
    assert world.api.get(f"/api/v1/definitions/{world.definition_id}/bpmn", "designer02")[0] == 404
    assert world.api.get(f"/api/v1/definitions/{world.definition_id}", "legal")[0] == 200  # the legal office
    assert world.api.post(f"{item}/suspend", "admin", {"reason": "整改"})[0] == 200  # the district's admin
    # Registering items: a department's admin in their own department only.
    from tests.world import ITEM
    assert world.api.post("/api/v1/items", "admin02", {**ITEM, "code": "CA01-XK-0009"})[0] == 403
    assert world.api.post("/api/v1/items", "admin02", {**ITEM, "code": "CA02-XK-0009", "department": "CA02"})[0] == 201


def test_what_the_api_fuzzer_found(world):
    """Found by tests/e2e/test_api_properties.py (schemathesis): each was a 500 or an answer off the document."""
    # A query code that is not text (JSON lets a client send a list): 400 malformed naming it, not a 500.
    status, body = world.api.post("/public/api/v1/cases/20260302-000001/rating", None,
                                  {"code": [None, None], "score": 1, "comment": ""})
    assert status == 400 and body["error"]["details"] == [{"field": "code"}], body
    # A method the address does not support: 405 with the Allow header RFC 9110 asks for.
    response = world.api.client.open("/healthz", method="TRACE")
    assert response.status_code == 405 and "GET" in response.headers.get("Allow", ""), response.headers
    # A list answer documented as a list.
    status, campaigns = world.api.get("/api/v1/evaluations", "admin")
    assert status == 200 and isinstance(campaigns, list)
