"""Cookie names and flags: over HTTPS every cookie is Secure and the session cookie is a
`__Host-` cookie (the browser then refuses it from plain http, a subdomain or another path);
over plain http in development the same flows keep working."""

from __future__ import annotations

import re

import pytest

from qingyuan.platform import accounts
from tests.conftest import PASSWORD, add_user


def page_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def https_client(make_client, make_settings):
    """A deployment served over HTTPS (secure cookies on), reached over HTTPS."""
    settings = make_settings(QINGYUAN_SECURE_COOKIES="true")
    return make_client(settings, base_url="https://testserver")


def set_cookies(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h.lower() for h in response.headers.get_list("set-cookie")}


@pytest.mark.parametrize(
    ("path", "field", "value", "name"),
    [
        ("/preferences/language", "language", "en", "qy_lang"),
        ("/preferences/large-text", "large_text", "1", "qy_large"),
    ],
)
def test_preference_cookies_are_secure_when_cookies_must_be(https_client, path, field, value, name):
    token = page_token(https_client.get("/").text)
    response = https_client.post(
        path, data={field: value, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "; secure" in set_cookies(response)[name]


def test_session_cookie_is_a_host_cookie_over_https(https_client):
    phone = "13900000077"
    add_user(https_client, phone)
    response = https_client.post("/api/v1/session", json={"phone": phone, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = set_cookies(response)["__Host-qy_session"]
    assert "; secure" in cookie and "path=/" in cookie and "domain=" not in cookie
    assert "qy_session" not in set_cookies(response)
    me = https_client.get("/api/v1/me")  # the browser sends it back, and it is the session
    assert me.status_code == 200
    csrf = response.json()["csrf_token"]
    out = https_client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert "__Host-qy_session" not in https_client.cookies
    assert https_client.get("/api/v1/me").status_code == 401


def test_plain_http_development_keeps_its_session_cookie(client, make_user):
    phone = accounts.phone_of(client.app.state.kernel.cipher, make_user())
    response = client.post("/api/v1/session", json={"phone": phone, "password": PASSWORD})
    cookie = set_cookies(response)["qy_session"]
    assert "secure" not in cookie
    assert client.get("/api/v1/me").status_code == 200
