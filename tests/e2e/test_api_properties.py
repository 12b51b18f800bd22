"""Property-based API tests (issue 10): schemathesis reads the served OpenAPI document and sends generated
requests — valid and invalid — to every operation in-process, as a district admin and as a clerk; no answer may be
a server error, and every answer must match the document (status codes, content type, body schema).

Examples per operation: `API_FUZZ_EXAMPLES` (default 12: a few minutes for the whole suite on two cores); the
10-minute run against gunicorn + PostgreSQL is `bench/fuzz_served.py`'s job. Runs on SQLite, and on PostgreSQL too
when TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, settings  # noqa: E402

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,  # noqa: E402
                                               status_code_conformance, unsupported_method)

from tests.world import build_world  # noqa: E402

# What every answer must satisfy: no server error, the status listed in the document, the body and content type
# the document gives it, and 405 with Allow. Left out, and tracked in issue 10's note: that the document states
# every constraint the server enforces (schemathesis' "schema-valid request rejected"); the common ones are
# stated (page ranges, non-blank reasons, periods), but not those across fields or of stored data.
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance,
          unsupported_method]

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))


@pytest.fixture(params=["admin", "acc"])  # a district admin, and a clerk of one department
def api_schema(app, frozen_now, request):
    world = build_world(app)
    world.new_case()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.app_world, schema.app_user = world, request.param
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error_or_off_its_schema(case, api_schema):
    token = api_schema.app_world.tokens[api_schema.app_user]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def test_a_district_wide_notice_answers_as_the_document_says(app, frozen_now):
    """A notice of no case (the admins' "calendar year missing") has case_no null: found by bench/fuzz_served.py."""
    from schemathesis.specs.openapi.checks import response_schema_conformance

    from app.supervision.deadlines import tell_admins_of_missing_years

    world = build_world(app, deploy=False)
    with app.extensions["sunlight.db"].unit_of_work() as s:
        tell_admins_of_missing_years(s, app.extensions["sunlight.settings"], [2099])
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {world.tokens['admin']}"}
    listed = schema["/api/v1/notices"]["GET"].Case().call_and_validate(headers=headers,
                                                                       checks=[response_schema_conformance])
    [notice] = listed.json()
    assert notice["case_no"] is None
    schema["/api/v1/notices/{notice_id}/ack"]["POST"].Case(path_parameters={"notice_id": notice["id"]}).call_and_validate(
        headers=headers, checks=[response_schema_conformance])
