"""The JSON API base: session, me, error shape, and an OpenAPI document covering every route."""

from __future__ import annotations

from starlette.routing import Route

from qingyuan.web.openapi import ApiRoute
from tests.conftest import PASSWORD, login


def test_login_returns_user_and_csrf_token(client, make_user):
    user = make_user(name="小青")
    body = login(client, user)
    assert body["user"]["id"] == user.id
    assert body["user"]["role"] == "member"
    assert body["user"]["phone"].count("*") == 4  # masked
    assert len(body["csrf_token"]) >= 32


def test_me_requires_login(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_authenticated" and error["message"] and error["fields"] == {}


def test_me_after_login(client, make_user):
    user = make_user()
    login(client, user)
    assert client.get("/api/v1/me").json()["id"] == user.id


def test_bad_json_is_a_422_not_a_500(client):
    for content in [b"{", b"[1,2]", b'"text"']:
        response = client.post(
            "/api/v1/session", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_failed"


def test_wrong_types_are_field_errors(client):
    response = client.post("/api/v1/session", json={"phone": 1381234, "password": None})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"phone", "password"}


def test_unknown_api_route_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_405(client):
    response = client.put("/api/v1/me")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_openapi_documents_every_api_route(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    api_routes = [
        r for r in client.app.routes if isinstance(r, Route) and r.path.startswith("/api/")
    ]
    assert api_routes and all(isinstance(r, ApiRoute) for r in api_routes)
    for route in api_routes:
        for method in route.methods - {"HEAD"}:
            operation = schema["paths"][route.path_format][method.lower()]
            assert operation["summary"] and operation["responses"]
    assert not [path for path in schema["paths"] if ":" in path]  # no Starlette converters


def test_openapi_describes_the_login_contract(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/session"]["post"]

    def schema(content: dict) -> dict:
        ref = content["application/json"]["schema"]["$ref"]
        assert ref.startswith("#/components/schemas/")
        return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]

    assert schema(operation["requestBody"]["content"])["required"] == ["phone", "password"]
    assert set(schema(operation["responses"]["200"]["content"])["required"]) == {
        "user",
        "csrf_token",
    }
    assert "429" in operation["responses"]
    error = schema(operation["responses"]["422"]["content"])
    assert error["required"] == ["error"]


def test_login_password_is_case_sensitive(client, make_user):
    user = make_user()
    from qingyuan.platform.accounts import phone_of

    phone = phone_of(client.app.state.kernel.cipher, user)
    response = client.post("/api/v1/session", json={"phone": phone, "password": PASSWORD.upper()})
    assert response.status_code == 422
