"""One validation layer at the API's doors (#10): every request to /api/v1 and /public/api/v1 is checked against
the OpenAPI document (app/api/openapi.py) by openapi-core before its endpoint runs — path parameters, query
parameters and the JSON body of the operation Flask matched. The document is thus the single definition of what a
request may contain; the endpoints and services keep only what it cannot say (cross-field rules, stored data).

What the layer answers, in the project's error shape with `details` naming each field (`applicant.name`,
`materials[0].name`, a parameter's name):
- 400 `malformed`: a value that does not parse as what the document says (a word for an integer, JSON that is not
  JSON or nests deeper than MAX_JSON_DEPTH, a number where text is expected), or any text holding a NUL character
  (PostgreSQL can neither store nor compare it) — in the address, the query or anywhere in the JSON body;
- 415: a body that is not JSON where the operation takes JSON only;
- 422 `invalid`: a value that parses but breaks a constraint (minimum/maximum, lengths, enum, pattern, format,
  required, additionalProperties).
Security is our own code's (app/api/common.py `caller`): openapi-core's security check is not run. Uploads
(multipart, BPMN XML) keep their own body checks: only their parameters are validated here.

Cost (#14): openapi-core walks the document through jsonschema-path on every access, so used naively it costs
milliseconds per request. Here the OpenAPI object is built once per process without re-checking the document (the
OpenAPI test does that), the operation is looked up from Flask's matched rule instead of searched among the paths,
the jsonschema validators and casters are built once per schema, the security step is skipped, and the body is
parsed once (Flask's cached JSON). bench/validation_cost.py measures what remains.
"""
from __future__ import annotations

import re
from functools import lru_cache

from flask import Blueprint, Flask, request
from openapi_core import Config, OpenAPI, V30RequestValidator
from openapi_core.casting.schemas import oas30_write_schema_casters_factory
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.casting.schemas.factories import SchemaCastersFactory
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.exceptions import DeserializeError
from openapi_core.templating.datatypes import TemplateResult
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.datatypes import PathOperationServer
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.validation.request.exceptions import (InvalidRequestBody, MissingParameter,
                                                        MissingRequestBodyError, MissingRequiredParameter,
                                                        MissingRequiredRequestBody,
                                                        ParameterValidationError)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_schema_validator import OAS30WriteValidator
from werkzeug.datastructures import Headers, ImmutableMultiDict

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
    operation = _operation_of(rule.rule, request.method) if rule is not None else None
    if operation is None:
        return
    pattern, json_only, takes_json = operation
    query = request.args
    if query and any(v == "" for v in query.values()):  # `?x=` means x left out, as the endpoints read it
        query = ImmutableMultiDict([(k, v) for k, v in query.items(multi=True) if v != ""])
    _refuse_nul(request.view_args or {}, query)
    body = None  # a missing body is the endpoint's to refuse (some take none); uploads read their own
    if takes_json and (request.is_json or json_only) and request.get_data(cache=True):
        if not request.is_json:
            raise UnsupportedMediaType("send JSON with Content-Type: application/json")
        _refuse_nul_in_body(json_body())  # 400 for bad or too deep JSON; Flask keeps the parse for the endpoint
        body = request.get_data(cache=True)
    call = _Call(pattern, request.method.lower(), RequestParameters(
        path=request.view_args or {}, query=query, header=_NO_HEADERS, cookie=_NO_COOKIES),
        request.mimetype if body is not None else "application/json", body)
    _raise_first(list(_contract().request_validator.iter_errors(call)))


# --- what openapi-core is given -----------------------------------------------------------------------------------

_NO_HEADERS, _NO_COOKIES = Headers(), ImmutableMultiDict()
_RULE_VAR = re.compile(r"<(?:[^<>:]+:)?(\w+)>")  # <code>, <int:definition_id>, <any(a, b):action>
_JSON = "application/json"


class _Call:
    """The request as openapi-core's Request protocol wants it; host_url is empty so its URL is the path pattern."""
    host_url = ""

    def __init__(self, pattern: str, method: str, parameters: RequestParameters, content_type: str, body):
        self.path = self.path_pattern = pattern
        self.method, self.parameters, self.content_type, self.body = method, parameters, content_type, body


@lru_cache(maxsize=None)
def _operation_of(rule: str, method: str) -> tuple[str, bool, bool] | None:
    """(path pattern, the body is JSON only, the body may be JSON) of the documented operation behind a Flask rule
    and method; None when the document does not describe it (OPTIONS…)."""
    pattern = _RULE_VAR.sub(r"{\1}", rule)
    op = openapi_document()["paths"].get(pattern, {}).get("get" if method == "HEAD" else method.lower())
    if op is None:
        return None
    content = (op.get("requestBody") or {}).get("content", {})
    return pattern, set(content) == {_JSON}, _JSON in content


class _RoutedPaths:
    """openapi-core's path finder, given that Flask has already routed the request: the operation is looked up by
    its path pattern (a dict hit), not searched among the document's paths by template matching."""

    def __init__(self, spec, base_url=None):
        self.spec, self._found = spec, {}

    def find(self, method: str, name: str) -> PathOperationServer:
        found = self._found.get((method, name))
        if found is None:
            paths = self.spec / "paths"
            if name not in paths:
                raise PathNotFound(name)
            path = paths / name
            if method not in path:
                raise OperationNotFound(name, method)
            found = self._found[(method, name)] = PathOperationServer(path, path / method, None,
                                                                      TemplateResult(name, {}), None)
        return found


class _OncePerSchema(SchemaValidatorsFactory):
    """A jsonschema validator per schema, made once (openapi-core makes one, with a deep-copied format checker, on
    every use). Validators keep no state between calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._made = {}

    def create(self, schema, format_validators=None, extra_format_validators=None):
        made = self._made.get(schema)
        if made is None:
            made = self._made[schema] = super().create(schema, format_validators, extra_format_validators)
        return made


class _CastersOncePerSchema(SchemaCastersFactory):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._made = {}

    def create(self, schema, format_validators=None, extra_format_validators=None):
        made = self._made.get(schema)
        if made is None:
            made = self._made[schema] = super().create(schema, format_validators, extra_format_validators)
        return made


class _DoorValidator(V30RequestValidator):
    """openapi-core's OpenAPI 3.0 request validator without its security step (our code authenticates)."""

    def iter_errors(self, request):
        path, operation, _, _, _ = self._find_path(request)
        yield from self._iter_parameters_errors(request, operation, path)
        if request.body is not None:
            yield from self._iter_body_errors(request, operation)


def _cached_json(value: bytes, **parameters):
    """The body as Flask parsed it (json_body above): parsed once per request, not once per reader."""
    return request.get_json(cache=True)


@lru_cache(maxsize=1)
def _contract() -> OpenAPI:
    """openapi-core's OpenAPI object for the served document: built once per process (the document is)."""
    validators = _OncePerSchema(OAS30WriteValidator)
    return OpenAPI.from_dict(openapi_document(), config=Config(
        spec_validator_cls=None,  # tests/*/test_openapi*.py validates the document; not again at every start
        request_validator_cls=_DoorValidator, path_finder_cls=_RoutedPaths, schema_validators_factory=validators,
        schema_casters_factory=_CastersOncePerSchema(validators, oas30_write_schema_casters_factory.types_caster),
        extra_media_type_deserializers={_JSON: _cached_json}))


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
    if "\\u0000" not in request.get_data(cache=True, as_text=True).lower():
        return
    stack = [(body, "")]
    while stack:
        node, at = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise BadRequest(f"{at or 'body'} holds a NUL character", details=[{"field": at or "body"}])
        elif isinstance(node, dict):
            for key, value in node.items():
                name = f"{at}.{key}" if at else str(key)
                if "\x00" in key:
                    raise BadRequest(f"a field name in {at or 'the body'} holds a NUL character",
                                     details=[{"field": name.replace("\x00", "\\0")}])
                stack.append((value, name))
        elif isinstance(node, list):
            stack.extend((value, f"{at}[{i}]") for i, value in enumerate(node))


# --- openapi-core's findings as the project's errors ---------------------------------------------------------------

def _raise_first(errors: list[Exception]) -> None:
    """One answer for all the request's problems: 415 if the media type is wrong, else 400 if any value does not
    parse (or the body is missing), else 422; the details name every field found."""
    if not errors:
        return
    malformed, problems = False, []
    for exc in errors:
        cause = exc.__cause__
        if isinstance(exc, MissingRequestBodyError):
            if isinstance(exc, MissingRequiredRequestBody):
                raise BadRequest("a JSON body is required")
            continue
        if isinstance(exc, MissingParameter) and not isinstance(exc, MissingRequiredParameter):
            continue
        if isinstance(cause, MediaTypeNotFound):
            raise UnsupportedMediaType("send JSON with Content-Type: application/json")
        if isinstance(exc, MissingRequiredParameter):
            problems.append((exc.name, "is required"))
        elif isinstance(exc, ParameterValidationError):
            bad, found = _schema_problems(cause, exc.name)
            malformed |= bad
            problems.extend(found)
        elif isinstance(exc, InvalidRequestBody):
            bad, found = _schema_problems(cause, "")
            malformed |= bad
            problems.extend(found)
        else:  # a finding this layer does not know: let the endpoint's own checks answer
            continue
    if not problems:
        return
    fields = list(dict.fromkeys(field or "body" for field, _ in problems))[:MAX_FIELDS_NAMED]
    message = "; ".join(f"{field or 'body'} {text}" for field, text in problems[:MAX_FIELDS_NAMED])
    if malformed:
        raise BadRequest(message, details=[{"field": f} for f in fields])
    raise Invalid(message, details=[{"field": f} for f in fields])


def _schema_problems(cause, where: str) -> tuple[bool, list[tuple[str, str]]]:
    """(whether a value did not parse, [(field, what is wrong)]) of one parameter's or the body's failure."""
    if isinstance(cause, (CastError, DeserializeError)) or not isinstance(cause, InvalidSchemaValue):
        return True, [(where, "is not in the form the document gives")]
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
        return True, field, f"must be {'an' if str(limit)[0] in 'aeiou' else 'a'} {limit}"
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

