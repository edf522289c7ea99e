"""Hostile bodies against every API route of our OpenAPI document (issue #11, must show 3).

Each operation that takes a body gets generated hostile ones — deep nesting, numbers no
column holds, every property of the wrong type, invalid UTF-8, NUL and lone surrogates, and
oversize — from a logged-in member and from an admin with real CSRF tokens. None may cause a
5xx, and the database must be exactly as before (every row of every table).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.testclient import TestClient
from tortoise import Tortoise

from qingyuan.platform.models import Role
from qingyuan.web.openapi import build_schema
from tests.conftest import add_user, login, run
from tests.verification.platform_support import CHEN, register, verify

WRONG: dict[str, list[Any]] = {
    "string": [[], {}, 12],
    "integer": ["12", [], {}, 1.5],
    "number": ["1", []],
    "boolean": ["true", [], 0],
    "array": [{}, "x", 1],
    "object": [[], "x", 1],
}


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "object")
    return next(t for t in kind if t != "null") if isinstance(kind, list) else kind


def hostile_bodies(schema: dict[str, Any]) -> list[bytes]:
    """Raw bodies for one operation's request schema."""
    names = list(schema.get("properties", {})) or ["x"]
    properties = schema.get("properties", {})
    bodies = [
        b"[" * 5000 + b"]" * 5000,
        json.dumps({names[0]: json.loads("[" * 500 + "]" * 500)}).encode(),
        b'{"' + names[0].encode() + b'": "\xff\xfe\xfd"}',
        b"\xef\xbb\xbf{}",
        json.dumps({n: "x" * 200_000 for n in names}).encode(),
    ]
    for value in ("1e999", "-1e999", str(2**64), str(-(2**63) - 1), "1" + "0" * 5000):
        bodies.append(("{" + ", ".join(f'"{n}": {value}' for n in names) + "}").encode())
    for text in ("\\u0000", "\\ud800"):
        bodies.append(("{" + ", ".join(f'"{n}": "a{text}b"' for n in names) + "}").encode())
    for i in range(4):
        body = {}
        for name in names:
            choices = WRONG[_type(properties.get(name, {}))]
            body[name] = choices[i % len(choices)]
        bodies.append(json.dumps(body).encode())
    return bodies


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A request schema itself, where the document refers to it in components/schemas."""
    ref = schema.get("$ref", "")
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = build_schema(client.app.routes, client.app.state.kernel.settings)
    found = []
    for path, items in document["paths"].items():
        for method, operation in items.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                url = re.sub(r"\{[^}]+\}", "1", path)
                schema = content["application/json"]["schema"]
                found.append((method.upper(), url, _resolved(document, schema)))
    return found


async def dump() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in key order."""
    rows = {}
    for app in Tortoise.apps.values():
        for name, model in app.items():
            rows[name] = await model.all().order_by(model._meta.pk_attr).values()
    return rows


def test_hostile_bodies_never_fail_and_change_nothing(client):
    created = register(client, CHEN)
    verify(client, created["member_id"])
    admin = add_user(client, "13800000009", Role.ADMIN, "管理员")
    routes = operations(client)
    assert len(routes) >= 20, routes
    for who in ("member", "admin"):
        csrf = created["csrf_token"] if who == "member" else login(client, admin)["csrf_token"]
        headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf}
        before = run(client, dump)
        for method, url, schema in routes:
            for body in hostile_bodies(schema):
                response = client.request(method, url, content=body, headers=headers)
                assert response.status_code < 500, (who, method, url, body[:80], response.text)
        after = run(client, dump)
        assert not [table for table in before if before[table] != after[table]], who
