"""Bad input gets a clear 4xx in the contract's error shape, and loses nothing."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from tests.world import ITEM, LICENSING, build_world, deploy_item


@pytest.fixture
def world(app):
    return build_world(app, deploy=False)


def _is_error(body, code=None):
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), body
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body


def test_tokens_are_required_and_checked(world):
    status, body = world.api.get("/api/v1/tasks")
    assert status == 401
    _is_error(body, "unauthenticated")
    status, body = world.api.get("/api/v1/tasks", headers={"Authorization": "Bearer sl_forged"})
    assert status == 401
    status, body = world.api.get("/api/v1/tasks", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert status == 401


def test_roles_are_enforced(world):
    status, body = world.api.post("/api/v1/items", "acc", ITEM)
    assert status == 403
    _is_error(body, "forbidden")
    status, body = world.api.post("/api/v1/items/X/definitions", "legal", data=LICENSING, ctype="application/xml")
    assert status == 403


def test_malformed_json_is_400_and_wrong_media_type_is_415(world):
    status, body = world.api.call("POST", "/api/v1/items", "designer", data=b"{not json", ctype="application/json")
    assert status == 400
    _is_error(body, "malformed")
    status, body = world.api.call("POST", "/api/v1/items", "designer", data=b"code=1", ctype="text/plain")
    assert status == 415
    _is_error(body, "unsupported_media_type")
    assert world.api.post("/api/v1/items", "designer", json=[1, 2])[0] == 400
    world.api.post("/api/v1/items", "designer", ITEM)
    status, body = world.api.call("POST", "/api/v1/items/CA01-XK-0001/definitions", "designer", data=LICENSING,
                                  ctype="application/json")
    assert status == 415


@pytest.mark.parametrize("change, field", [
    ({"category": "bribery"}, "category"), ({"promised_days": -1}, "promised_days"),
    ({"promised_days": 30}, "promised_days"), ({"code": "../etc"}, "code"), ({"name": ""}, "name"),
    ({"materials": [{"required": True}]}, "materials[0].name"),
])
def test_invalid_items_are_422_naming_the_field(world, change, field):
    status, body = world.api.post("/api/v1/items", "designer", {**ITEM, **change})
    assert status == 422, body
    _is_error(body)
    assert body["error"]["details"] == [{"field": field}]


def test_a_value_of_the_wrong_type_is_400_naming_the_field(world):
    """The validation layer (app/api/validation.py): a value that is not what the document says is malformed."""
    status, body = world.api.post("/api/v1/items", "designer", {**ITEM, "statutory_days": "20"})
    assert status == 400 and body["error"]["code"] == "malformed", body
    assert body["error"]["details"] == [{"field": "statutory_days"}]


def test_duplicates_and_unknowns(world):
    assert world.api.post("/api/v1/items", "designer", ITEM)[0] == 201
    status, body = world.api.post("/api/v1/items", "designer", ITEM)
    assert status == 409
    _is_error(body, "duplicate")
    assert world.api.post("/api/v1/items", "designer", {**ITEM, "code": "X2", "department": "NOPE"})[0] == 404
    assert world.api.get("/api/v1/items/NOPE", "acc")[0] == 404
    assert world.api.get("/api/v1/definitions/999", "acc")[0] == 404
    assert world.api.get("/api/v1/nothing-here", "acc")[0] == 404


def test_an_invalid_diagram_is_422_with_element_and_line(world):
    world.api.post("/api/v1/items", "designer", ITEM)
    bad = LICENSING.replace(b"approved == True", b"__import__('os').system('id')")
    status, body = world.api.call("POST", "/api/v1/items/CA01-XK-0001/definitions", "designer", data=bad,
                                  ctype="application/xml")
    assert status == 422
    _is_error(body, "invalid_bpmn")
    problem = body["error"]["details"][0]
    assert problem["element_id"] == "Flow_approve" and problem["line"] > 1 and "__import__" in problem["message"]
    # Beside the English, the designer's Chinese (an additive field).
    assert problem["message_zh"].startswith("条件“__import__('os').system('id')”不被接受：不允许调用方法")
    status, body = world.api.call("POST", "/api/v1/items/CA01-XK-0001/definitions", "designer",
                                  data=b"<not-bpmn/>", ctype="application/xml")
    assert status == 422 and body["error"]["details"]


def test_entity_tricks_are_refused(world):
    world.api.post("/api/v1/items", "designer", ITEM)
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&b;</bpmn:definitions>')
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')
    for payload in (bomb, xxe):
        status, body = world.api.call("POST", "/api/v1/items/CA01-XK-0001/definitions", "designer", data=payload,
                                      ctype="application/xml")
        assert status == 422, body
        assert "root:" not in str(body)


def test_huge_bodies_are_413(world, app):
    world.api.post("/api/v1/items", "designer", ITEM)
    big = LICENSING.replace(b"</bpmn:definitions>", b"<!--" + b"x" * (3 * 1024 * 1024) + b"--></bpmn:definitions>")
    status, body = world.api.call("POST", "/api/v1/items/CA01-XK-0001/definitions", "designer", data=big,
                                  ctype="application/xml")
    assert status == 413
    _is_error(body)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    status, body = world.api.post("/api/v1/items", "designer", {**ITEM, "code": "X3", "legal_basis": "x" * 5000})
    assert status == 413
    _is_error(body, "too_large")


def test_only_published_definitions_of_active_items_take_cases(world):
    world.api.post("/api/v1/items", "designer", ITEM)
    status, body = world.api.post("/api/v1/cases", "acc", {"item_code": ITEM["code"], "applicant": {"name": "王五"}})
    assert status == 409  # a draft item without a published definition
    status, d = world.api.call("POST", f"/api/v1/items/{ITEM['code']}/definitions", "designer", data=LICENSING,
                               ctype="application/xml")
    world.api.post(f"/api/v1/definitions/{d['id']}/submit", "designer", {})
    status, body = world.api.post(f"/api/v1/definitions/{d['id']}/review", "legal", {"decision": "reject",
                                                                                   "comment": "缺少法律依据"})
    assert status == 200 and body["status"] == "rejected"
    assert world.api.post("/api/v1/cases", "acc", {"item_code": ITEM["code"], "applicant": {"name": "王五"}})[0] == 409
    assert world.api.post("/api/v1/cases", "acc", {"item_code": "NOPE", "applicant": {"name": "王五"}})[0] == 404


def test_review_rules(world):
    world.api.post("/api/v1/items", "designer", ITEM)
    _, d = world.api.call("POST", f"/api/v1/items/{ITEM['code']}/definitions", "designer", data=LICENSING,
                          ctype="application/xml")
    url = f"/api/v1/definitions/{d['id']}"
    assert world.api.post(f"{url}/review", "legal", {"decision": "approve"})[0] == 409  # not submitted yet
    assert world.api.post(f"{url}/submit", "designer", {})[1]["status"] == "in_review"
    assert world.api.post(f"{url}/submit", "designer", {})[0] == 409
    assert world.api.post(f"{url}/review", "designer", {"decision": "approve"})[0] == 403
    assert world.api.post(f"{url}/review", "legal", {"decision": "maybe"})[0] == 422
    status, body = world.api.post(f"{url}/review", "legal", {"decision": "approve", "comment": "ok"})
    assert status == 200 and body["status"] == "published"
    status, xml = world.api.get(f"{url}/bpmn", "acc")
    assert status == 200 and "licensing_demo" in xml


def test_publishing_a_new_version_retires_the_old_one_and_running_cases_stay_pinned(world):
    first = deploy_item(world, ITEM, LICENSING)
    status, case = world.api.post("/api/v1/cases", "acc", {"item_code": ITEM["code"], "applicant": {"name": "赵六"}})
    v2 = LICENSING.replace(b'name="\xe5\x8f\x97\xe7\x90\x86"', b'name="\xe5\x8f\x97\xe7\x90\x86 v2"')
    assert v2 != LICENSING
    _, d2 = world.api.call("POST", f"/api/v1/items/{ITEM['code']}/definitions", "designer", data=v2,
                           ctype="application/xml")
    assert d2["version"] == 2
    world.api.post(f"/api/v1/definitions/{d2['id']}/submit", "designer", {})
    world.api.post(f"/api/v1/definitions/{d2['id']}/review", "legal", {"decision": "approve"})
    assert world.api.get(f"/api/v1/definitions/{first}", "acc")[1]["status"] == "retired"
    assert world.api.get(f"/api/v1/cases/{case['case_no']}", "acc")[1]["definition_id"] == first
    _, new_case = world.api.post("/api/v1/cases", "acc", {"item_code": ITEM["code"], "applicant": {"name": "钱七"}})
    assert new_case["definition_id"] == d2["id"]


def test_public_catalogue_lists_active_items_only(world):
    world.api.post("/api/v1/items", "designer", {**ITEM, "code": "DRAFT-1"})
    deploy_item(world, ITEM, LICENSING)
    status, body = world.api.get("/public/api/v1/items")
    assert status == 200 and body["total"] == 1
    item = body["items"][0]
    for field in ("code", "name", "category", "department", "promised_days", "accepting_authority",
                  "supervision_phone", "implementing_body", "materials", "fee", "legal_basis", "flow_url"):
        assert field in item
    assert world.api.get("/public/api/v1/items?category=penalty")[1]["total"] == 0
    assert world.api.get("/public/api/v1/items?q=食品")[1]["total"] == 1
    assert world.api.get("/public/api/v1/items?per_page=1001")[0] == 422  # beyond the document's maximum
    assert world.api.get("/public/api/v1/items?category=nope")[0] == 422
    assert world.api.get(item["flow_url"])[0] == 200
    assert world.api.get("/public/api/v1/items/DRAFT-1")[0] == 404
    csv_status, csv_text = world.api.get("/public/api/v1/items.csv")
    assert csv_status == 200 and "食品经营许可" in csv_text and "DRAFT-1" not in csv_text


def test_the_public_case_query_is_rate_limited(app):
    app.config["PUBLIC_QUERY_RATE"] = "3/minute"
    client = app.test_client()
    codes = [client.get("/public/api/v1/cases/20260101-000001?code=X").status_code for _ in range(5)]
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]
    assert client.get("/public/api/v1/cases/20260101-000001?code=X").get_json()["error"]["code"] == "too_many_requests"


def test_the_openapi_document_is_valid_and_matches_the_routes(app):
    client = app.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/public/api/", "/healthz")):
            path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((path, method.lower()))
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert served == documented


def test_the_legal_office_pins_remarks_on_elements_and_versions_stay_immutable(world):
    world.api.post("/api/v1/items", "designer", ITEM)
    _, d = world.api.call("POST", f"/api/v1/items/{ITEM['code']}/definitions", "designer", data=LICENSING,
                          ctype="application/xml")
    url = f"/api/v1/definitions/{d['id']}"
    world.api.post(f"{url}/submit", "designer", {})
    status, body = world.api.post(f"{url}/review", "legal", {"decision": "reject", "comment": "缺少法律依据",
                                                             "element_comments": [{"element_id": "Nope", "comment": "x"}]})
    assert status == 422 and body["error"]["details"] == [{"field": "element_comments[0].element_id"}]
    status, body = world.api.post(f"{url}/review", "legal", {
        "decision": "reject", "comment": "请补充", "element_comments": [
            {"element_id": "Task_review", "comment": "审查环节缺少法律依据"}]})
    assert status == 200 and body["element_comments"] == [{"element_id": "Task_review", "comment": "审查环节缺少法律依据"}]
    # Nothing changes a stored version: there is no way to write to it, and a new upload is a new version.
    assert world.api.call("PUT", f"{url}/bpmn", "designer", data=b"<x/>", ctype="application/xml")[0] == 405
    _, d2 = world.api.call("POST", f"/api/v1/items/{ITEM['code']}/definitions", "designer",
                           data=LICENSING.replace(b"PT72H", b"PT48H"), ctype="application/xml")
    assert d2["version"] == 2 and world.api.get(url, "acc")[1]["sha256"] == d["sha256"]
    assert "PT72H" in world.api.get(f"{url}/bpmn", "acc")[1]
