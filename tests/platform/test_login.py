"""Login: credentials, per-account and per-address rate limits, localised 429 messages."""

from __future__ import annotations

from qingyuan.platform import accounts
from tests.conftest import PASSWORD, add_user
from tests.connections.chat_support import suspend


def _phone(client, user) -> str:
    return accounts.phone_of(client.app.state.kernel.cipher, user)


def test_wrong_password_and_unknown_phone_get_the_same_answer(client, make_user):
    user = make_user()
    wrong = client.post("/api/v1/session", json={"phone": _phone(client, user), "password": "x"})
    unknown = client.post("/api/v1/session", json={"phone": "13999999999", "password": "x"})
    assert wrong.status_code == unknown.status_code == 422
    assert wrong.json() == unknown.json()


def test_invalid_phone_is_a_field_error(client):
    response = client.post("/api/v1/session", json={"phone": "12345", "password": "x"})
    assert response.status_code == 422
    assert "phone" in response.json()["error"]["fields"]


def test_missing_fields_are_named(client):
    response = client.post("/api/v1/session", json={})
    assert set(response.json()["error"]["fields"]) == {"phone", "password"}


def test_account_rate_limit_answers_429_in_chinese_then_english(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_RATE_LOGIN_ACCOUNT="3/600"))
    user = add_user(client, "13500000001")
    body = {"phone": "13500000001", "password": "wrong-password-1"}
    for _ in range(3):
        assert client.post("/api/v1/session", json=body).status_code == 422
    limited = client.post("/api/v1/session", json={**body, "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "尝试次数过多" in limited.json()["error"]["message"]
    english = client.post("/api/v1/session", json=body, headers={"Accept-Language": "en"})
    assert english.status_code == 429
    assert english.json()["error"]["message"].startswith("Too many attempts")
    assert user.id  # the account itself is untouched and another account is unaffected
    assert (
        client.post("/api/v1/session", json={"phone": "13500000002", "password": "x"}).status_code
        == 422
    )


def test_ip_rate_limit_covers_every_account(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_RATE_LOGIN_IP="4/600"))
    for index in range(4):
        body = {"phone": f"1350000010{index}", "password": "x"}
        assert client.post("/api/v1/session", json=body).status_code == 422
    response = client.post("/api/v1/session", json={"phone": "13500000199", "password": "x"})
    assert response.status_code == 429


def test_form_login_rate_limit_shows_the_message_on_the_page(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_RATE_LOGIN_IP="1/600"))
    page = client.get("/login", headers={"Accept-Language": "en"})
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"phone": "13500000001", "password": "x", "csrf_token": token}
    assert client.post("/login", data=form).status_code == 422
    limited = client.post("/login", data=form, headers={"Accept-Language": "en"})
    assert limited.status_code == 429
    assert "Too many attempts" in limited.text


def test_successful_login_resets_the_account_counter(make_settings, make_client):
    client = make_client(make_settings(QINGYUAN_RATE_LOGIN_ACCOUNT="2/600"))
    add_user(client, "13500000003")
    wrong = {"phone": "13500000003", "password": "wrong-password-1"}
    right = {"phone": "13500000003", "password": PASSWORD}
    assert client.post("/api/v1/session", json=wrong).status_code == 422
    assert client.post("/api/v1/session", json=right).status_code == 200
    assert client.post("/api/v1/session", json=wrong).status_code == 422
    assert client.post("/api/v1/session", json=right).status_code == 200


def test_disabled_accounts_cannot_log_in(client, make_user):
    user = make_user()
    suspend(client, user)
    response = client.post(
        "/api/v1/session", json={"phone": _phone(client, user), "password": PASSWORD}
    )
    assert response.status_code == 422
