"""The login page on a phone: Chinese, English, 长辈版; axe-clean; a real login."""

from __future__ import annotations

import pytest

from qingyuan.platform.models import Role
from tests.browser.conftest import ACCOUNTS, PASSWORD, assert_accessible, screenshot

pytestmark = pytest.mark.browser


def test_login_page_in_chinese(live_server, new_phone):
    page = new_phone("zh-CN")
    page.goto(f"{live_server.url}/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_label("手机号码").is_visible()
    assert page.get_by_role("button", name="登录").is_visible()
    screenshot(page, "login-zh")
    assert_accessible(page)


def test_login_page_in_english_via_the_switch(live_server, new_phone):
    page = new_phone("zh-CN")
    page.goto(f"{live_server.url}/login")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_label("Mobile number").is_visible()
    screenshot(page, "login-en")
    assert_accessible(page)


def test_large_text_mode_enlarges_and_persists(live_server, new_phone):
    page = new_phone("zh-CN")
    page.goto(f"{live_server.url}/login")
    normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.get_by_role("button", name="长辈版（大字）").click()
    page.wait_for_url("**/login")
    page.reload()
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    assert size >= 18 > normal and line / size >= 1.3
    screenshot(page, "login-large-text")
    assert_accessible(page)


def test_touch_targets_are_at_least_44px(live_server, new_phone):
    page = new_phone("zh-CN")
    page.goto(f"{live_server.url}/login")
    for element in page.locator("main button, main input:not([type=hidden]), nav a").all():
        box = element.bounding_box()
        assert box and box["height"] >= 44, element.evaluate("e => e.outerHTML")


def test_member_logs_in_and_out(live_server, new_phone):
    member = ACCOUNTS[Role.MEMBER][0]
    page = new_phone("zh-CN")
    page.goto(f"{live_server.url}/login")
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_label("手机号码").fill(member)
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "手机号码或密码不正确。"
    screenshot(page, "login-error")
    assert_accessible(page)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    page.wait_for_url("**/home")
    assert "您好，小青" in page.inner_text("main")
    screenshot(page, "home")
    assert_accessible(page)
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{live_server.url}/")
    screenshot(page, "landing")
    assert_accessible(page)


def test_admin_sees_the_audit_log(live_server, new_phone):
    page = new_phone("en")
    page.goto(f"{live_server.url}/login?next=/admin/audit")
    page.get_by_label("Mobile number").fill(ACCOUNTS[Role.ADMIN][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/audit")
    assert page.get_by_role("heading", name="Audit log").is_visible()
    screenshot(page, "admin-audit-en")
    assert_accessible(page)
