"""Sessions: fixation, server-side logout, idle and absolute timeouts, account disabling."""

from __future__ import annotations

from qingyuan.connections.safety import do_unsuspend_account
from qingyuan.platform import accounts
from qingyuan.web.security import SESSION_COOKIE
from tests.conftest import PASSWORD, add_user, login, run
from tests.connections.chat_support import suspend


def use_session(client, session_id: str) -> None:
    """Send exactly this session cookie, as a browser replaying a copied cookie would."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, session_id, domain="testserver.local")


def test_login_issues_a_new_session_id_and_the_old_one_is_refused(client, make_user):
    user = make_user()
    login(client, user)
    first = client.cookies[SESSION_COOKIE]
    login(client, user)
    second = client.cookies[SESSION_COOKIE]
    assert first != second
    assert len(second) >= 32

    use_session(client, first)
    assert client.get("/api/v1/me").status_code == 401
    use_session(client, second)
    assert client.get("/api/v1/me").status_code == 200


def test_a_planted_session_id_is_not_adopted_at_login(client, make_user):
    user = make_user()
    use_session(client, "attacker-chosen-session-id-0123456789")
    login(client, user)
    assert client.cookies[SESSION_COOKIE] != "attacker-chosen-session-id-0123456789"


def test_form_login_also_rotates_the_session(client, make_user):
    user = make_user()
    login(client, user)
    before = client.cookies[SESSION_COOKIE]
    client.get("/login")
    phone = accounts.phone_of(client.app.state.kernel.cipher, user)
    token = client.get("/home").text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"phone": phone, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.cookies[SESSION_COOKIE] != before


def test_logout_deletes_the_session_on_the_server(client, make_user):
    body = login(client, make_user())
    stolen = client.cookies[SESSION_COOKIE]
    response = client.delete("/api/v1/session", headers={"X-CSRF-Token": body["csrf_token"]})
    assert response.status_code == 204
    use_session(client, stolen)  # a copy of the cookie kept by an attacker
    assert client.get("/api/v1/me").status_code == 401


def test_idle_timeout_ends_a_quiet_session(make_settings, make_client, clock):
    client = make_client(make_settings(QINGYUAN_SESSION_IDLE_SECONDS="1"))
    user = add_user(client, "13612345678")
    login(client, user)
    assert client.get("/api/v1/me").status_code == 200
    clock.age_redis_keys(1.3)
    assert client.get("/api/v1/me").status_code == 401


def test_absolute_timeout_ends_even_an_active_session(make_settings, make_client, clock):
    client = make_client(make_settings(QINGYUAN_SESSION_ABSOLUTE_SECONDS="120"))
    user = add_user(client, "13612345679")
    login(client, user)
    for _ in range(3):  # active every 30 s: the idle timeout never strikes
        assert client.get("/api/v1/me").status_code == 200
        clock.advance(30)
    clock.advance(40)  # 130 s after logging in
    assert client.get("/api/v1/me").status_code == 401


def test_disabling_an_account_ends_its_sessions(client, make_user):
    """Disabling logs the account out everywhere: its sessions are deleted on the server, so
    enabling the account again does not bring an old cookie back to life."""
    user = make_user()
    login(client, user)
    copied = client.cookies[SESSION_COOKIE]
    suspend(client, user)
    assert client.get("/api/v1/me").status_code == 401
    run(client, do_unsuspend_account, user, actor=None, reason="appeal accepted")
    use_session(client, copied)
    assert client.get("/api/v1/me").status_code == 401


def test_purging_drops_index_entries_of_expired_sessions(client, make_user):
    user = make_user()
    login(client, user)
    kernel = client.app.state.kernel
    run(
        client, kernel.redis.delete, *run(client, kernel.redis.smembers, f"user-sessions:{user.id}")
    )
    assert run(client, kernel.sessions.purge_expired) == 1
    assert run(client, kernel.sessions.purge_expired) == 0
