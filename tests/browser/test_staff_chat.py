"""The staff side of connections on a phone: the admins' report queue (messages shown,
decision audit-logged) and the matchmaker console (masked members, a consultation note).
axe-checked; screenshots in test-artifacts/browser/staff-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from qingyuan import demo
from qingyuan.connections.encrypted_columns import MESSAGE_TEXT, REPORT_DETAILS
from qingyuan.connections.models import ConnectionSource, ReportReason
from qingyuan.matching.decisions import open_connection
from qingyuan.matching.models import Profile
from qingyuan.platform import accounts
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.database import connected
from tests.browser.conftest import assert_accessible, browser_settings, screenshot, serve
from tests.conftest import install_migrated

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Staff:
    url: str
    admin: tuple[str, str]  # phone, password
    matchmaker: tuple[str, str]
    scam_text: str


async def _reported_chat(settings, phones: list[str], text: str) -> None:
    """Two verified demo members in a chat; the second reports the first's message."""
    cipher = PIICipher(settings.pii_keys, settings.blind_index_key)
    async with connected(settings):
        users = []
        for phone in phones:
            user = await accounts.find_by_phone(cipher, phone)
            if await Profile.exists(user_id=user.id):
                users.append(user)
        a, b = users[:2]
        connection = await open_connection(a.id, b.id, ConnectionSource.MATCH)
        await MESSAGE_TEXT.create(
            cipher, text, connection_id=connection.id, sender_id=a.id, recipient_id=b.id,
            risk="investment",
        )  # fmt: skip
        await REPORT_DETAILS.create(
            cipher, "他一直让我投资", reporter_id=b.id, reported_id=a.id,
            connection_id=connection.id, reason=ReportReason.SCAM,
        )  # fmt: skip


@pytest.fixture(scope="module")
def staff(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Staff]:
    settings = browser_settings(tmp_path_factory.mktemp("staff") / "var")
    install_migrated(settings)
    logins = asyncio.run(demo.seed(settings, members=4))
    text = "带你投资虚拟币，稳赚不赔"
    members = [login.phone for login in logins if login.role == "member"]
    asyncio.run(_reported_chat(settings, members, text))
    by_role = {login.role: (login.phone, login.password) for login in logins}
    with serve(settings) as url:
        yield Staff(url, by_role["admin"], by_role["matchmaker"], text)


def log_in(page: Page, staff: Staff, account: tuple[str, str], next_path: str) -> None:
    page.goto(f"{staff.url}/login?next={next_path}")
    page.locator("#phone").fill(account[0])
    page.locator("#password").fill(account[1])
    page.get_by_role("main").get_by_role("button").click()
    page.wait_for_url(f"**{next_path}")


def test_admin_decides_a_report_from_the_queue(staff, new_phone):
    page = new_phone("zh-CN")
    log_in(page, staff, staff.admin, "/admin/reports")
    expect(page.get_by_role("heading", level=1)).to_have_text("举报")
    item = page.locator(".queue-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("要钱或拉人投资（诈骗）")
    screenshot(page, "staff-reports-zh")
    assert_accessible(page)
    item.click()
    expect(page.locator(".message-text")).to_have_text([staff.scam_text])
    page.get_by_label("封停账号").check()
    page.get_by_role("button", name="提交决定").click()  # no reason yet: the browser refuses
    expect(page).to_have_url(f"{staff.url}/admin/reports/1")
    page.get_by_label("理由（记入审计日志）").fill("典型的杀猪盘话术")
    screenshot(page, "staff-report-zh")
    assert_accessible(page)
    page.get_by_role("button", name="提交决定").click()
    page.wait_for_url("**/admin/reports")
    expect(page.get_by_text("没有待处理的举报。")).to_be_visible()
    page.goto(f"{staff.url}/admin/audit")
    expect(page.locator("code", has_text="report.suspended")).to_have_count(1)
    expect(page.locator("code", has_text="report.messages_viewed")).to_have_count(1)


def test_matchmaker_console_shows_masked_members_and_keeps_notes(staff, new_phone):
    page = new_phone("zh-CN")
    log_in(page, staff, staff.matchmaker, "/matchmaker")
    expect(page.get_by_role("heading", level=1)).to_have_text("红娘工作台")
    members = page.locator("section[aria-labelledby='members-title'] .queue-item")
    assert members.count() >= 2
    for text in members.all_inner_texts():
        assert "*" in text and "****" in text  # masked name and phone
    screenshot(page, "staff-matchmaker-console-zh")
    assert_accessible(page)
    members.first.click()
    page.get_by_label("新记录").fill("第一次咨询：希望找一个也喜欢徒步的人。")
    page.get_by_role("button", name="保存记录").click()
    expect(page.locator(".queue-item").first).to_contain_text("第一次咨询")
    screenshot(page, "staff-matchmaker-member-zh")
    assert_accessible(page)
