"""The OpenAPI document and the validators are one (issue 12, must show 1).

For every API route with a JSON body, schemathesis generates bodies from the schema that
`/api/v1/openapi.json` documents. Each positive one must be accepted by the route's validator
(`decode_json`, what `parse_json` runs); for negative ones, and for positive ones with one field
replaced by any JSON value or dropped, the validator must accept exactly those that the
document accepts (judged by `jsonschema_rs`, formats included). The one tolerance: a body the
document accepts may be refused on fields the model lists in `beyond_schema` (rules no JSON
Schema states, such as an age range in order), and on those alone.
(hypothesis-jsonschema 0.23.1, the registry's latest, no longer runs on our Hypothesis: it
uses an internal `many.more` that Hypothesis removed; schemathesis's generators stand in.)
The routing table is walked, so a route converted later is covered without a line here.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET

from qingyuan.platform.errors import ValidationFailed
from qingyuan.web.app import create_app
from qingyuan.web.bodies import decode_json
from qingyuan.web.openapi import ApiRoute, api_routes, build_schema
from tests.web.test_openapi_fuzz import OFFLINE_SETTINGS

# Routes still described by a hand-written dict, not yet by a model: this list only shrinks
# (a test below fails when a listed route has been converted). Being converted on other
# branches: introductions, chat, moderation.
UNCONVERTED = {
    ("PUT", "/api/v1/me/profile"),
    ("PUT", "/api/v1/me/questionnaire"),
}

ROUTES = list(api_routes(create_app(OFFLINE_SETTINGS).routes))
DOCUMENT = build_schema(ROUTES, OFFLINE_SETTINGS)
BODIED = [r for r in ROUTES if r.body is not None]
OPERATIONS = schemathesis.openapi.from_dict(DOCUMENT)


def _key(route: ApiRoute) -> tuple[str, str]:
    return route.method.upper(), route.path_format


CONVERTED = [r for r in BODIED if r.body_model(OFFLINE_SETTINGS) is not None]


def inlined(schema: Any) -> Any:
    """The schema with every `#/components/schemas/…` reference replaced by its target."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return inlined(DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[-1]])
        return {key: inlined(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [inlined(item) for item in schema]
    return schema


def documented_body(route: ApiRoute) -> dict[str, Any]:
    operation = DOCUMENT["paths"][route.path_format][route.method]
    return inlined(operation["requestBody"]["content"]["application/json"]["schema"])


def raw(body: Any) -> bytes:
    """The body as sent (negative cases may be bytes that are not JSON at all)."""
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def documents(schema: dict[str, Any], body: Any) -> bool:
    """Whether the document says `body` is valid."""
    try:
        value = json.loads(raw(body))
    except ValueError:
        return False
    return bool(jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(value))


def refused(route: ApiRoute, body: Any) -> set[str] | None:
    """The fields the validator refuses `body` for (`{""}` for the body as a whole), or None."""
    model = route.body_model(OFFLINE_SETTINGS)
    assert model is not None
    try:
        decode_json(raw(body), model)
    except ValidationFailed as error:
        return set(error.fields) or {""}
    return None


def beyond_schema(route: ApiRoute, fields: set[str] | None) -> bool:
    """Whether the validator refused only for rules the document cannot state."""
    model = route.body_model(OFFLINE_SETTINGS)
    allowed = getattr(model, "beyond_schema", frozenset())
    return fields is not None and fields <= allowed


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


def bodies(route: ApiRoute, mode: GenerationMode) -> st.SearchStrategy[Any]:
    operation = OPERATIONS[route.path_format][route.method.upper()]
    return operation.as_strategy(generation_mode=mode).map(lambda case: case.body)


@st.composite
def one_field_changed(draw: st.DrawFn, route: ApiRoute) -> Any:
    """A documented body with one field given any JSON value, or dropped."""
    body = draw(bodies(route, GenerationMode.POSITIVE))
    if isinstance(body, dict):
        properties = sorted(documented_body(route).get("properties", {}))
        name = draw(st.sampled_from(properties)) if properties else "x"
        if draw(st.booleans()):
            body = {k: v for k, v in body.items() if k != name}
        else:
            body = {**body, name: draw(JSON_VALUES)}
    return body


def test_every_api_body_is_a_model_or_still_listed_as_unconverted():
    dicts = {_key(r) for r in BODIED if r.body_model(OFFLINE_SETTINGS) is None}
    assert dicts <= UNCONVERTED, f"a body described by hand, not by a model: {dicts - UNCONVERTED}"
    converted = UNCONVERTED & {_key(r) for r in CONVERTED}
    assert not converted, f"converted, so take them off UNCONVERTED: {converted}"
    assert not UNCONVERTED - {_key(r) for r in BODIED}, "UNCONVERTED lists routes that are gone"


@pytest.mark.parametrize("route", CONVERTED, ids=lambda r: " ".join(_key(r)))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_validator_accepts_every_documented_body(route, data):
    body = data.draw(bodies(route, GenerationMode.POSITIVE))
    assert documents(documented_body(route), body), body
    fields = refused(route, body)
    assert fields is None or beyond_schema(route, fields), (body, fields)


@pytest.mark.parametrize("route", CONVERTED, ids=lambda r: " ".join(_key(r)))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_validator_refuses_exactly_what_the_document_refuses(route, data):
    schema = documented_body(route)
    body = data.draw(bodies(route, GenerationMode.NEGATIVE) | one_field_changed(route))
    assume(body is not NOT_SET)
    fields = refused(route, body)
    if documents(schema, body):
        assert fields is None or beyond_schema(route, fields), (body, fields)
    else:
        assert fields is not None, body
