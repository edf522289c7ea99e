"""CSRF (forms and API), the Origin check, and the security headers."""

from __future__ import annotations

import re

import pytest

from qingyuan.platform import accounts
from qingyuan.platform.settings import deploy_problems
from tests.conftest import PASSWORD, login


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_form_post_without_token_is_refused_and_changes_nothing(client, make_user):
    user = make_user()
    phone = accounts.phone_of(client.app.state.kernel.cipher, user)
    response = client.post("/login", data={"phone": phone, "password": PASSWORD})
    assert response.status_code == 403
    assert "qy_session" not in client.cookies


def test_form_post_with_a_forged_token_is_refused(client, make_user):
    client.get("/login")
    response = client.post(
        "/preferences/large-text", data={"large_text": "1", "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert client.cookies.get("qy_large") is None


def test_form_post_with_the_page_token_is_accepted(client):
    token = form_token(client.get("/login").text)
    response = client.post(
        "/preferences/large-text",
        data={"large_text": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.cookies.get("qy_large") == "1"


def test_pre_login_token_does_not_survive_login(client, make_user):
    """After login the token is the session's: a token scraped before login is useless."""
    anonymous_token = form_token(client.get("/login").text)
    login(client, make_user())
    response = client.post(
        "/preferences/large-text", data={"large_text": "1", "csrf_token": anonymous_token}
    )
    assert response.status_code == 403


def test_api_call_without_csrf_header_is_refused(client, make_user):
    login(client, make_user())
    response = client.delete("/api/v1/session")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/me").status_code == 200


def test_api_call_with_csrf_header_passes(client, make_user):
    body = login(client, make_user())
    response = client.delete("/api/v1/session", headers={"X-CSRF-Token": body["csrf_token"]})
    assert response.status_code == 204


@pytest.mark.parametrize("origin", ["https://evil.example", "http://testserver.evil", "null"])
def test_foreign_origin_is_refused_even_with_a_valid_token(client, make_user, origin):
    body = login(client, make_user())
    response = client.delete(
        "/api/v1/session", headers={"X-CSRF-Token": body["csrf_token"], "Origin": origin}
    )
    assert response.status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_foreign_origin_cannot_log_in(client, make_user):
    user = make_user()
    phone = accounts.phone_of(client.app.state.kernel.cipher, user)
    response = client.post(
        "/api/v1/session",
        json={"phone": phone, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_same_origin_is_accepted(client, make_user):
    body = login(client, make_user())
    response = client.delete(
        "/api/v1/session",
        headers={"X-CSRF-Token": body["csrf_token"], "Origin": "http://testserver"},
    )
    assert response.status_code == 204


def test_login_api_only_takes_json(client, make_user):
    """A cross-site HTML form can post urlencoded bodies without a preflight; we refuse them."""
    user = make_user()
    phone = accounts.phone_of(client.app.state.kernel.cipher, user)
    response = client.post("/api/v1/session", data={"phone": phone, "password": PASSWORD})
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/me", "/healthz", "/nope"])
def test_security_headers_are_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in headers  # only in production


def test_static_files_may_be_cached(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers.get("cache-control") != "no-store"


def test_session_cookie_flags(client, make_user):
    user = make_user()
    phone = accounts.phone_of(client.app.state.kernel.cipher, user)
    response = client.post("/api/v1/session", json={"phone": phone, "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "max-age" not in cookie  # a browser-session cookie; the server enforces timeouts


def test_hsts_is_sent_when_enabled_for_production():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from qingyuan.web.middleware import SecurityHeadersMiddleware

    inner = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    with TestClient(SecurityHeadersMiddleware(inner, hsts=True)) as plain:
        assert "max-age=31536000" in plain.get("/").headers["strict-transport-security"]


def test_cookies_are_secure_in_production_and_wherever_asked(settings, make_settings):
    assert make_settings(QINGYUAN_ENV="production").secure_cookies
    assert make_settings(QINGYUAN_SECURE_COOKIES="true").secure_cookies
    assert not settings.secure_cookies  # plain http in development and tests
    insecure = make_settings(QINGYUAN_ENV="production", QINGYUAN_SECURE_COOKIES="false")
    assert any("QINGYUAN_SECURE_COOKIES" in problem for problem in deploy_problems(insecure))


def test_no_open_redirect_after_login(client, make_user):
    user = make_user()
    phone = accounts.phone_of(client.app.state.kernel.cipher, user)
    token = form_token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"phone": phone, "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/home"
