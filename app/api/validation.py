"""One validation layer at the API's doors (#10): every request to /api/v1 and /public/api/v1 is checked against
the OpenAPI document (app/api/openapi.py) by openapi-core before its endpoint runs — path parameters, query
parameters and the JSON body of the operation Flask matched. The document is thus the single definition of what a
request may contain; the endpoints and services keep only what it cannot say (cross-field rules, stored data).

What the layer answers, in the project's error shape with `details` naming each field (`applicant.name`,
`materials[0].name`, a parameter's name):
- 400 `malformed`: a value that does not parse as what the document says (a word for an integer, JSON that is not
  JSON or nests deeper than MAX_JSON_DEPTH, a number or a list where text is expected), or a NUL character in the
  address or the query (PostgreSQL can neither store nor compare it);
- 415: a body that is not JSON where the operation takes JSON only;
- 422 `invalid`: a value that parses but breaks a constraint (minimum/maximum, lengths, enum, pattern, format,
  required, additionalProperties), or a text of the JSON body — keys and free-form case data included — holding a
  NUL character.
Security is our own code's (app/api/common.py `caller`): openapi-core's security check is not run. Uploads
(multipart, BPMN XML) keep their own body checks: only their parameters are validated here.

Cost (#14): openapi-core's request validator walks the document through jsonschema-path on every access (finding
the path by template matching, each parameter's style, the media type…) and makes a fresh jsonschema validator per
schema: used as documented it costs milliseconds per request. Here openapi-core's OpenAPI object is built once per
process, and each operation's plan is made once from it, on first use — openapi-core's caster and validator of each
parameter's schema and its validator of the JSON body's schema — so a request costs a dict lookup (Flask has
already routed it), a cast and a jsonschema validation per value, and no second parse of the body (Flask's cached
JSON). Parameters here are all simple (style: simple/form, one value). bench/validation_cost.py measures it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from flask import Blueprint, Flask, request
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas import oas30_write_schema_casters_factory
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.casting.schemas.factories import SchemaCastersFactory
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_schema_validator import OAS30WriteValidator
from werkzeug.datastructures import ImmutableMultiDict

from app.errors import Invalid

from .common import BadRequest, UnsupportedMediaType, json_body
from .openapi import openapi_document

MAX_FIELDS_NAMED = 20  # an answer names at most this many fields (a hostile body may break thousands)


def install(app: Flask, *blueprints: Blueprint) -> None:
    """Validate every request of `blueprints` (the JSON API's) before its endpoint runs; call it before they are
    registered. A blueprint object serves every app the process makes: its hook is added once."""
    app.extensions["sunlight.validated_blueprints"] = {bp.name for bp in blueprints}
    for bp in blueprints:
        if validate_request not in bp.before_request_funcs.get(None, []):
            bp.before_request(validate_request)


def validate_request() -> None:
    """The before_request hook: raises the project's 400/415/422 when the request breaks the document."""
    rule = request.url_rule
    plan = _plan_of(rule.rule, request.method) if rule is not None else None
    if plan is None:
        return
    path, query = request.view_args or {}, request.args
    if query and any(v == "" for v in query.values()):  # `?x=` means x left out, as the endpoints read it
        query = ImmutableMultiDict([(k, v) for k, v in query.items(multi=True) if v != ""])
    _refuse_nul(path, query)
    malformed, problems = False, []
    for name, where, required, caster, validator in plan.params:
        raw = (path if where == "path" else query).get(name)
        if raw is None:
            if required:
                problems.append((name, "is required"))
            continue
        try:
            validator.validate(caster.cast(raw))
        except CastError:
            malformed = True
            problems.append((name, f"must be {_a(caster.schema.getkey('type'))}"))
        except InvalidSchemaValue as exc:
            bad, found = _schema_problems(exc, name)
            malformed |= bad
            problems.extend(found)
    # A missing body is the endpoint's to refuse (some operations take none); uploads (multipart, XML) read and
    # check their own bodies.
    if plan.body is not None and (request.is_json or plan.json_only) and request.get_data(cache=True):
        if not request.is_json:
            raise UnsupportedMediaType("send JSON with Content-Type: application/json")
        body = json_body()  # 400 for JSON that is not JSON or nests too deep; Flask keeps the parse for the endpoint
        _refuse_nul_in_body(body)
        try:
            plan.body.validate(body)
        except InvalidSchemaValue as exc:
            bad, found = _schema_problems(exc, "")
            malformed |= bad
            problems.extend(found)
    if problems:
        fields = list(dict.fromkeys(field or "body" for field, _ in problems))[:MAX_FIELDS_NAMED]
        message = "; ".join(f"{field or 'body'} {text}" for field, text in problems[:MAX_FIELDS_NAMED])
        raise (BadRequest if malformed else Invalid)(message, details=[{"field": f} for f in fields])


# --- the document's operations, ready to check --------------------------------------------------------------------

_RULE_VAR = re.compile(r"<(?:[^<>:]+:)?(\w+)>")  # <code>, <int:definition_id>, <any(a, b):action>
_JSON = "application/json"


@dataclass(frozen=True)
class _Plan:
    """What one operation checks: its parameters (name, in, required, openapi-core's caster and validator of the
    parameter's schema) and openapi-core's validator of its JSON body schema (None: it takes no JSON)."""
    params: tuple
    body: object
    json_only: bool


@lru_cache(maxsize=None)
def _plan_of(rule: str, method: str) -> _Plan | None:
    """The plan of the documented operation behind a Flask rule and method, made on first use; None when the
    document does not describe it (OPTIONS…)."""
    contract = _contract()
    pattern = _RULE_VAR.sub(r"{\1}", rule)
    paths = contract.spec / "paths"
    verb = "get" if method == "HEAD" else method.lower()
    if pattern not in paths or verb not in paths / pattern:
        return None
    operation = paths / pattern / verb
    validators, casters = contract.config.schema_validators_factory, contract.config.schema_casters_factory
    params = tuple((p["name"], p["in"], p.getkey("required", False), casters.create(p / "schema"),
                    validators.create(p / "schema"))
                   for p in operation.get("parameters", []) if p["in"] in ("path", "query"))
    content = operation / "requestBody" / "content" if "requestBody" in operation else None
    body = validators.create(content / _JSON / "schema") if content is not None and _JSON in content else None
    return _Plan(params, body, content is not None and set(content.keys()) == {_JSON})


@lru_cache(maxsize=1)
def _contract() -> OpenAPI:
    """openapi-core's OpenAPI object for the served document: built once per process (the document is), without
    re-checking the document (tests/*/test_openapi*.py validates it), with OpenAPI 3.0 request ("write") rules."""
    validators = SchemaValidatorsFactory(OAS30WriteValidator)
    return OpenAPI.from_dict(openapi_document(), config=Config(
        spec_validator_cls=None, schema_validators_factory=validators,
        schema_casters_factory=SchemaCastersFactory(validators, oas30_write_schema_casters_factory.types_caster)))


def _a(kind) -> str:
    return f"{'an' if str(kind)[:1] in 'aeiou' else 'a'} {kind}"


# --- NUL characters ---------------------------------------------------------------------------------------------

def _refuse_nul(path: dict, query) -> None:
    for name, value in path.items():
        if isinstance(value, str) and "\x00" in value:
            raise BadRequest(f"{name} holds a NUL character", details=[{"field": name}])
    for key, value in query.items(multi=True):
        if "\x00" in key or "\x00" in value:
            name = key.replace("\x00", "\\0")[:40]
            raise BadRequest(f"the query parameter {name} holds a NUL character", details=[{"field": name}])


def _refuse_nul_in_body(body) -> None:
    """Any text of the body, keys included, free-form case data too (a JSON string can spell NUL as \\u0000)."""
    if b"\\u0000" not in request.get_data(cache=True):  # JSON can spell NUL only so (a raw one is not JSON)
        return
    stack = [(body, "")]
    while stack:
        node, at = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise Invalid(f"{at or 'body'} holds a NUL character", details=[{"field": at or "body"}])
        elif isinstance(node, dict):
            for key, value in node.items():
                name = f"{at}.{key}" if at else str(key)
                if "\x00" in key:
                    raise Invalid(f"a field name in {at or 'the body'} holds a NUL character",
                                     details=[{"field": name.replace("\x00", "\\0")}])
                stack.append((value, name))
        elif isinstance(node, list):
            stack.extend((value, f"{at}[{i}]") for i, value in enumerate(node))


# --- openapi-core's findings as the project's errors ---------------------------------------------------------------

def _schema_problems(cause: InvalidSchemaValue, where: str) -> tuple[bool, list[tuple[str, str]]]:
    """(whether a value did not parse, [(field, what is wrong)]) of one parameter's or the body's failure."""
    malformed, found = False, []
    for error in cause.schema_errors:
        for leaf in _leaves(error):
            bad, field, text = _explain(leaf, where)
            malformed |= bad
            found.append((field, text))
    return malformed, found


def _leaves(error):
    """The innermost errors of allOf/anyOf/oneOf (their own message only says 'is not valid under…')."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: len(e.relative_path))
        yield from _leaves(best)
    else:
        yield error


def _field(where: str, path) -> str:
    out = where
    for part in path:
        out = f"{out}[{part}]" if isinstance(part, int) else (f"{out}.{part}" if out else str(part))
    return out


def _explain(error, where: str) -> tuple[bool, str, str]:
    """(malformed, field, text) of one jsonschema error, in words that never echo the value (it may be huge or
    personal)."""
    kind, limit, field = error.validator, error.validator_value, _field(where, error.absolute_path)
    if kind == "type":
        return True, field, f"must be {_a(limit)}"
    if kind == "required":
        missing = [name for name in limit if isinstance(error.instance, dict) and name not in error.instance]
        return False, _field(field, [missing[0]] if missing else []), "is required"
    if kind == "additionalProperties":
        known = set((error.schema or {}).get("properties", {}))
        extra = [k for k in (error.instance or {}) if k not in known]
        return False, _field(field, [extra[0]] if extra else []), "is not a field of this request"
    text = {"maxLength": f"must be at most {limit} characters", "minLength": f"must be at least {limit} characters",
            "maximum": f"must be at most {limit}", "minimum": f"must be at least {limit}",
            "exclusiveMaximum": f"must be below {limit}", "exclusiveMinimum": f"must be above {limit}",
            "maxItems": f"must have at most {limit} entries", "minItems": f"must have at least {limit} entries",
            "maxProperties": f"must have at most {limit} fields", "uniqueItems": "must not repeat an entry",
            "pattern": "is not in the allowed form" + (" (not blank)" if limit == r"\S" else f" ({limit})"),
            "format": f"must be a valid {limit}"}.get(kind)
    if kind == "enum":
        text = "must be one of " + ", ".join(str(v) for v in list(limit or [])[:20])
    return False, field, text or f"breaks {kind}"

