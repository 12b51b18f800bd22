"""The validation layer at the API's doors (issue 10, app/api/validation.py): every request is checked against the
OpenAPI document by openapi-core before its endpoint runs; refusals name the field — 400 malformed for what does not
parse as the document says, 422 invalid for what breaks a limit it states."""
from __future__ import annotations

import pytest

from tests.world import build_world

MAX_ID = 2**31 - 1  # app/api/openapi.py MAX_ID: the largest integer a column holds


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


@pytest.fixture
def task(world):
    case = world.new_case()
    return world, f"/api/v1/cases/{case['case_no']}/tasks/{world.ready(case, 'Task_accept')['id']}/complete"


def _refused(answer, status, *fields):
    code, body = answer
    assert code == status, body
    assert body["error"]["code"] == {400: "malformed", 422: "invalid"}[status], body
    assert body["error"]["details"] == [{"field": f} for f in fields], body
    return body["error"]["message"]


def test_a_valid_request_passes_the_layer(task):
    world, complete = task
    status, case = world.api.post(complete, "acc", {"opinion": "同意", "data": {"note": "现场核查合格", "n": 3}})
    assert status == 200, case
    assert world.api.get(f"/api/v1/cases/{case['case_no']}", "acc")[0] == 200
    assert world.api.get("/api/v1/cases?q=张&status=running&from=2026-01-01&page=1&per_page=20", "acc")[0] == 200
    assert world.api.get("/api/v1/cases?q=&status=", "acc")[0] == 200  # `?x=` is x left out


def test_a_nul_character_is_refused_in_path_query_and_body_text(task):
    world, complete = task
    message = _refused(world.api.get("/api/v1/cases?q=a%00b", "acc"), 400, "q")
    assert "NUL" in message
    _refused(world.api.get("/api/v1/cases/2026%00", "acc"), 400, "case_no")
    _refused(world.api.get("/public/api/v1/items/A%00B"), 400, "code")
    _refused(world.api.post(complete, "acc", {"opinion": "同\x00意"}), 422, "opinion")
    _refused(world.api.post(complete, "acc", {"data": {"site": {"note": "x\x00"}}}), 422, "data.site.note")
    _refused(world.api.post(complete, "acc", {"missing_materials": ["a", "b\x00"]}), 422, "missing_materials[1]")


def test_integers_beyond_the_columns_range_are_refused(world):
    message = _refused(world.api.get(f"/api/v1/definitions/{MAX_ID + 1}", "sup"), 422, "definition_id")
    assert str(MAX_ID) in message
    assert world.api.get(f"/api/v1/definitions/{MAX_ID}", "sup")[0] == 404  # in range: simply not there
    _refused(world.api.get(f"/api/v1/notices?after={MAX_ID + 1}", "sup"), 422, "after")
    _refused(world.api.post("/api/v1/items", "admin", {"code": "X-1", "name": "x", "category": "other",
                                                       "department": "CA01", "promised_days": 2**31,
                                                       "statutory_days": 5}), 422, "promised_days")


def test_too_long_a_text_is_refused(task):
    world, complete = task
    message = _refused(world.api.post(complete, "acc", {"opinion": "长" * 5001}), 422, "opinion")
    assert "must be at most 5000 characters" in message and "长长" not in message  # the rule, never the value
    _refused(world.api.get("/api/v1/cases?q=" + "x" * 101, "acc"), 422, "q")
    _refused(world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "admin", json={"supervision_phone": "1" * 65}),
             422, "supervision_phone")


def test_a_value_of_the_wrong_type_is_malformed(task):
    world, complete = task
    _refused(world.api.post(complete, "acc", {"opinion": 5}), 400, "opinion")
    _refused(world.api.post(complete, "acc", {"data": [1, 2]}), 400, "data")
    _refused(world.api.get("/api/v1/tasks?page=abc", "acc"), 400, "page")
    _refused(world.api.get("/api/v1/tasks?page=1.5", "acc"), 400, "page")
    _refused(world.api.post("/public/api/v1/cases/20260302-000001/rating", None, {"code": "X", "score": "5"}),
             400, "score")


def test_an_unknown_enum_value_is_refused(world):
    assert "must be one of running" in _refused(world.api.get("/api/v1/cases?status=bogus", "acc"), 422, "status")
    _refused(world.api.post(f"/api/v1/definitions/{world.definition_id}/review", "legal", {"decision": "maybe"}),
             422, "decision")


def test_a_missing_required_field_is_refused_naming_it(world):
    _refused(world.api.post("/api/v1/cases", "acc", {"applicant": {"name": "张三"}}), 422, "item_code")
    _refused(world.api.post("/api/v1/cases", "acc", {"item_code": "CA01-XK-0001", "applicant": {}}), 422,
             "applicant.name")
    _refused(world.api.get("/public/api/v1/cases/20260302-000001"), 422, "code")  # the query code


def test_every_problem_is_named_at_once(world):
    status, body = world.api.post("/api/v1/cases", "acc", {"item_code": 5, "applicant": {"name": "x" * 5001}})
    assert status == 400 and body["error"]["code"] == "malformed", body  # one value did not parse
    assert {"field": "item_code"} in body["error"]["details"] and {"field": "applicant.name"} in body["error"]["details"]


def test_unknown_fields_dates_and_deep_json(world):
    message = _refused(world.api.call("PUT", "/api/v1/rules/R01", "admin", json={"enabled": True, "bogus": 1}),
                       422, "bogus")
    assert "not a field of this request" in message
    message = _refused(world.api.get("/api/v1/cases?from=10000-01-01", "acc"), 422, "from")  # past 9999
    assert "must be a valid date" in message
    _refused(world.api.get("/api/v1/cases?from=2026-02-30", "acc"), 422, "from")
    nested = node = {}
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    status, body = world.api.post("/api/v1/cases", "acc", {"item_code": "CA01-XK-0001", "applicant": {"name": "x"},
                                                           "data": nested})
    assert status == 400 and "nested" in body["error"]["message"], body
    status, body = world.api.call("POST", "/api/v1/cases", "acc", data="[" * 100000 + "]" * 100000,
                                  ctype="application/json")
    assert status == 400, body


def test_uploads_keep_their_own_checks(world):
    """A BPMN upload's body is not JSON: the layer checks only its parameters, never reads the diagram."""
    status, body = world.api.post("/api/v1/items/CA01-XK-0001/definitions", "designer", data=b"<not-bpmn/>",
                                  ctype="application/xml")
    assert status == 422 and body["error"]["code"] == "invalid_bpmn", body
    _refused(world.api.post("/api/v1/items/A%00/definitions", "designer", data=b"<x/>", ctype="application/xml"),
             400, "code")


def test_the_document_states_every_request_values_limits():
    """What the layer enforces is written in the served document: each parameter's integer has a range within a
    column's and each text a length."""
    from app.api.openapi import openapi_document

    for path, operations in openapi_document()["paths"].items():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                schema = param["schema"]
                if schema.get("type") == "integer":
                    assert schema["maximum"] <= MAX_ID, (path, method, param)
                elif schema.get("type") == "string" and "enum" not in schema:
                    assert "maxLength" in schema, (path, method, param)
