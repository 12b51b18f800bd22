"""What the validation layer (app/api/validation.py) costs per request, in µs: the median of many validations.

Run from the repo root:  .venv/bin/python bench/validation_cost.py [--rounds 2000]

Two requests of the hot path (#14): completing a task (POST /api/v1/cases/{case_no}/tasks/{task_id}/complete with a
small JSON body) and reading a case (GET /api/v1/cases/{case_no}). Each is set up once as a Flask request context
(routing done, as in a real request) and validate_request — the before_request hook — is timed alone, after a
warm-up (the first request of an operation builds its validators). For comparison, on the same request:
- "tuned": openapi-core's request validator (OpenAPI.request_validator) with what its configuration allows — a
  path finder that looks the operation up by Flask's rule, jsonschema validators and casters made once per schema,
  the security step skipped — still walking the document (jsonschema-path) for every parameter and media type;
- "plain": openapi-core as documented: its Flask request adapter and its stock validator (path search by template,
  security step, a fresh jsonschema validator per schema).
No database is touched. The machine's load moves the figures; compare the columns of one run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-secret")

REQUESTS = [
    ("POST complete", "/api/v1/cases/20260302-000001/tasks/0f8c2a4e-6d1b-4c55-9d0a-2b7e1f3c9a10/complete", "POST",
     {"opinion": "同意", "data": {"amount": 1200, "site_checked": True, "note": "现场核查合格"}}),
    ("GET case", "/api/v1/cases/20260302-000001", "GET", None),
]


def _time(fn, rounds: int) -> float:
    for _ in range(50):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def _tuned(document):
    """openapi-core's own request validator, configured as cheaply as its Config allows."""
    from openapi_core import Config, OpenAPI, V30RequestValidator
    from openapi_core.casting.schemas import oas30_write_schema_casters_factory
    from openapi_core.casting.schemas.factories import SchemaCastersFactory
    from openapi_core.templating.datatypes import TemplateResult
    from openapi_core.templating.paths.datatypes import PathOperationServer
    from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
    from openapi_schema_validator import OAS30WriteValidator

    def once_per_schema(cls):
        class Once(cls):
            def create(self, schema, *args, **kwargs):
                made = self.__dict__.setdefault("_made", {})
                if schema not in made:
                    made[schema] = super().create(schema, *args, **kwargs)
                return made[schema]
        return Once

    class Routed:
        def __init__(self, spec, base_url=None):
            self.spec, self.found = spec, {}

        def find(self, method, name):
            if (method, name) not in self.found:
                path = self.spec / "paths" / name
                self.found[method, name] = PathOperationServer(path, path / method, None, TemplateResult(name, {}),
                                                               None)
            return self.found[method, name]

    class NoSecurity(V30RequestValidator):
        def iter_errors(self, request):
            path, operation, _, _, _ = self._find_path(request)
            yield from self._iter_parameters_errors(request, operation, path)
            yield from self._iter_body_errors(request, operation)

    validators = once_per_schema(SchemaValidatorsFactory)(OAS30WriteValidator)
    casters = once_per_schema(SchemaCastersFactory)(validators, oas30_write_schema_casters_factory.types_caster)
    return OpenAPI.from_dict(document, config=Config(
        spec_validator_cls=None, path_finder_cls=Routed, request_validator_cls=NoSecurity,
        schema_validators_factory=validators, schema_casters_factory=casters))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()

    from flask import request
    from openapi_core import OpenAPI
    from openapi_core.contrib.flask import FlaskOpenAPIRequest

    from app import create_app
    from app.api.openapi import openapi_document
    from app.api.validation import validate_request

    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": os.environ["SECRET_KEY"]})
    stock, tuned = OpenAPI.from_dict(openapi_document()), _tuned(openapi_document())

    class Routed(FlaskOpenAPIRequest):
        host_url = ""  # the URL openapi-core looks up is then the path pattern itself

    headers = {"Authorization": "Bearer sl_x"}
    print(f"{'request':<16}{'layer µs':>10}{'tuned openapi-core µs':>24}{'plain openapi-core µs':>24}")
    for name, path, method, body in REQUESTS:
        with app.test_request_context(path, method=method, json=body, headers=headers):
            request.get_json(silent=True)  # the endpoint reads the body anyway: its parse is shared, not counted
            layer = _time(validate_request, args.rounds)
            few = max(args.rounds // 10, 100)
            tuned_us = _time(lambda: tuned.validate_request(Routed(request)), few)
            plain = _time(lambda: stock.validate_request(FlaskOpenAPIRequest(request)), few)
        print(f"{name:<16}{layer:>10.0f}{tuned_us:>24.0f}{plain:>24.0f}")


if __name__ == "__main__":
    main()
