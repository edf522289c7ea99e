"""Schemathesis against our own OpenAPI document: whatever a client sends, never a 5xx.

Every documented operation is called with generated parameters and bodies (valid and not) by
a logged-in, verified member holding a real CSRF token; an error must be a 4xx in our JSON
error shape, and a success must match the documented response schema. A positive example (one
the document says is valid) must not be refused as invalid input: a 422 may only name fields
the route's model leaves to its service (`beyond_schema`: an ID number's checksum, say).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from qingyuan.platform.settings import load_settings
from qingyuan.platform.validation import Schema
from qingyuan.web.app import create_app
from qingyuan.web.openapi import ApiRoute, api_routes, build_schema
from qingyuan.web.security import SESSION_COOKIE
from tests.verification.platform_support import CHEN, PASSWORD, register, verify

PHONE = "13912340001"  # register()'s default
# Only the routes are needed: no database, no Redis, and explicit keys, so that collecting this
# module (in every xdist worker at once) writes nothing, not even development keys.
OFFLINE = {
    "QINGYUAN_DATABASE_URL": "sqlite://:memory:",
    "QINGYUAN_REDIS_URL": "memory://openapi",
    "QINGYUAN_SECRET_KEY": "x" * 48,
    "QINGYUAN_PII_KEYS": "k1:" + "A" * 43 + "=",
    "QINGYUAN_BLIND_INDEX_KEY": "y" * 48,
}
OFFLINE_SETTINGS = load_settings(OFFLINE, env_file=None)
ROUTES = {
    (route.method.upper(), route.path_format): route
    for route in api_routes(create_app(OFFLINE_SETTINGS).routes)
}
schema = schemathesis.openapi.from_dict(build_schema(ROUTES.values(), OFFLINE_SETTINGS))


class Member:
    """A verified member's login; logs in again after an example logged them out."""

    def __init__(self, client: TestClient) -> None:
        verify(client, register(client, CHEN)["member_id"])
        self.client = client
        self.csrf: str | None = None

    def csrf_token(self) -> str:
        if self.csrf is None or SESSION_COOKIE not in self.client.cookies:
            response = self.client.post(
                "/api/v1/session", json={"phone": PHONE, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.csrf = response.json()["csrf_token"]
        return self.csrf


def assert_left_to_the_service(route: ApiRoute, body: dict) -> None:
    """A documented-valid request refused: only for a rule the JSON Schema cannot say.

    A 422 that names no field is a verdict on the request as a whole (a wrong password), not
    on its shape. Routes whose body is still a hand-written dict are not held to this yet
    (`UNCONVERTED` in test_schema_agreement, which only shrinks).
    """
    models = [m for m in (route.body, route.query) if isinstance(m, type)]
    if isinstance(route.body, dict) or not models:
        return
    left = frozenset().union(*(m.beyond_schema for m in models if issubclass(m, Schema)))
    refused = set(body["error"]["fields"])
    assert refused <= left, (route.path_format, body)


@pytest.fixture
def member(make_settings, make_client) -> Member:
    """Examples log out and in again many times: the login limits would (rightly) stop them."""
    lenient = make_settings(
        QINGYUAN_RATE_LOGIN_ACCOUNT="10000/60", QINGYUAN_RATE_LOGIN_IP="10000/60"
    )
    return Member(make_client(lenient))


@schema.parametrize()
# The embedded stack only: this exercises the HTTP layer's handling of input (the same code on
# every database); the PostgreSQL variant doubled the suite's longest test for no new finding.
@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_api_fail(case, member):
    client = member.client
    csrf = member.csrf_token()
    call = case.as_transport_kwargs(base_url=str(client.base_url))
    headers = {k: v for k, v in call["headers"].items() if k.lower() != "x-csrf-token"}
    response = client.request(
        call["method"],
        call["url"],
        params=call.get("params"),
        headers={**headers, "X-CSRF-Token": csrf},
        json=call.get("json"),
    )
    assert response.status_code < 500, (case.path, response.text)
    if response.status_code == 422 and not case.meta.generation.mode.is_negative:
        assert_left_to_the_service(ROUTES[(case.method.upper(), case.path)], response.json())
    is_json = response.headers.get("content-type", "").startswith("application/json")
    if response.status_code >= 400 and is_json:
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)
    elif response.status_code < 300:
        case.operation.validate_response(response)
