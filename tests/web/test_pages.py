"""Pages: landing, login, localisation (zh-CN default, English), 长辈版, error pages."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from qingyuan.platform.i18n import CATALOG_DIR
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_landing_explains_the_service_in_chinese_by_default(client):
    html = client.get("/").text
    assert '<html lang="zh-CN"' in html
    assert "实名核验如何保护您" in html and "六部门核验" in html


def test_english_from_the_browser_and_from_the_switch(client):
    assert (
        "How verification protects you"
        in client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    )
    response = client.post(
        "/preferences/language",
        data={"language": "en", "next": "/login", "csrf_token": token(client.get("/").text)},
        follow_redirects=True,
    )
    assert '<html lang="en"' in response.text and "Mobile number" in response.text
    assert "Mobile number" in client.get("/login").text  # the choice persists


def test_large_text_mode_persists(client):
    assert 'class="large-text"' not in client.get("/").text
    client.post(
        "/preferences/large-text",
        data={"large_text": "1", "next": "/", "csrf_token": token(client.get("/").text)},
    )
    assert 'class="large-text"' in client.get("/login").text


def test_unknown_language_is_ignored(client):
    client.post(
        "/preferences/language", data={"language": "xx", "csrf_token": token(client.get("/").text)}
    )
    assert '<html lang="zh-CN"' in client.get("/").text


def test_localised_404_page(client):
    zh = client.get("/no-such-page")
    assert zh.status_code == 404 and "页面不存在" in zh.text
    en = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert "Page not found" in en.text


def test_localised_500_page(make_client):
    from starlette.routing import Route

    client = make_client(raise_server_exceptions=False)

    async def crash(request):
        raise RuntimeError("boom")

    client.app.router.routes.insert(0, Route("/crash", crash))
    response = client.get("/crash")
    assert response.status_code == 500 and "出了点问题" in response.text
    assert "boom" not in response.text


def test_home_requires_login_and_greets_the_member(client, make_user):
    assert client.get("/home", follow_redirects=False).headers["location"] == "/login?next=/home"
    login(client, make_user(name="小青"))
    assert "您好，小青" in client.get("/home").text


def test_login_form_errors_are_shown_and_linked(client, make_user):
    response = client.post(
        "/login",
        data={
            "phone": "13999999999",
            "password": "nope",
            "csrf_token": token(client.get("/").text),
        },
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.text and 'aria-invalid="true"' in response.text
    assert "手机号码或密码不正确" in response.text


def test_every_message_has_a_chinese_translation():
    """Extract every marked string from code and templates; each must be in the zh catalog."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "gettext_lazy": None}
    wanted = {
        message
        for _, _, message, *_ in extract_from_dir(ROOT, method_map, options_map, keywords=keywords)
        if isinstance(message, str)
    }
    with (CATALOG_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        translated = {m.id for m in read_po(handle) if m.id and m.string}
    assert len(wanted) > 50
    assert wanted - translated == set()
