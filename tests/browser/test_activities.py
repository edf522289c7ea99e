"""Must-show 4: an admin creates an activity on a phone, a verified member signs up and shows
the ticket, a volunteer checks the member in by the typed code; axe and screenshots.

The member is the bundled persona 陈志远, verified for real against the mock departments
before the server starts (the test thread never opens the ORM while the server runs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from qingyuan.parts import build_kernel, build_services, connected
from qingyuan.platform import accounts
from qingyuan.platform.models import Role
from qingyuan.verification.idnumber import parse_id_number
from qingyuan.verification.pipeline import check_member
from qingyuan.verification.registration import Application, create_member
from tests.browser.conftest import (
    PASSWORD,
    assert_accessible,
    browser_settings,
    screenshot,
    serve,
)
from tests.conftest import install_migrated

pytestmark = pytest.mark.browser

MEMBER_PHONE, ADMIN_PHONE, VOLUNTEER_PHONE = "13900000011", "13900000012", "13900000013"


@dataclass(frozen=True)
class Site:
    url: str


async def _seed(settings) -> None:
    services = build_services(build_kernel(settings))
    kernel = services.kernel
    async with connected(settings):
        identity = parse_id_number("330106199603140012")  # 陈志远, a clean persona
        _user, member = await create_member(
            kernel.cipher, Application(MEMBER_PHONE, PASSWORD, "陈志远", identity), "2026-11"
        )
        assert (await check_member(services.verification, member.id)).value == "verified"
        for phone, role, name in (
            (ADMIN_PHONE, Role.ADMIN, "团委小王"),
            (VOLUNTEER_PHONE, Role.MATCHMAKER, "红娘李姐"),
        ):
            await accounts.create_user(
                kernel.cipher, phone=phone, password=PASSWORD, role=role, display_name=name
            )
    await services.aclose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = browser_settings(tmp_path_factory.mktemp("activities") / "var")
    install_migrated(settings)
    asyncio.run(_seed(settings))
    with serve(settings) as url:
        yield Site(url)


def log_in(page: Page, site: Site, phone: str, next_path: str) -> None:
    page.goto(f"{site.url}/login?next={next_path}")
    page.locator("#phone").fill(phone)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button").click()
    page.wait_for_url(f"**{next_path}")


def local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def test_admin_creates_member_signs_up_volunteer_checks_in(site: Site, new_phone) -> None:
    start = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(minutes=25)

    admin = new_phone()
    log_in(admin, site, ADMIN_PHONE, "/admin/activities/new")
    admin.locator("#title").fill("周末飞盘交友 · 西湖")
    admin.locator("#kind").select_option("frisbee")
    admin.locator("#place").fill("杭州市西湖区黄龙体育中心")
    admin.locator("#starts_at").fill(local(start))
    admin.locator("#ends_at").fill(local(start + timedelta(hours=2)))
    admin.locator("#registration_closes_at").fill(local(start - timedelta(minutes=10)))
    admin.locator("#cancel_deadline").fill(local(start - timedelta(minutes=10)))
    admin.locator("#capacity").fill("20")
    admin.locator("#quota_male").fill("10")
    admin.locator("#quota_female").fill("10")
    assert_accessible(admin)
    screenshot(admin, "activities-admin-new")
    admin.get_by_role("button", name="创建活动").click()
    admin.wait_for_url("**/admin/activities/*")
    expect(admin.get_by_role("heading", level=1)).to_have_text("周末飞盘交友 · 西湖")
    assert_accessible(admin)
    screenshot(admin, "activities-admin-created")
    # only volunteers with a shift at the activity check members in there
    admin.locator("#shift-role").fill("签到")
    admin.locator("#shift-start").fill(local(start - timedelta(minutes=30)))
    admin.locator("#shift-end").fill(local(start))
    admin.get_by_role("button", name="添加岗位").click()
    admin.locator("#assign-volunteer").select_option(label="红娘李姐")
    admin.get_by_role("button", name="安排", exact=True).click()
    expect(admin.get_by_text("1 / 1 人")).to_be_visible()

    member = new_phone()
    log_in(member, site, MEMBER_PHONE, "/home")
    member.get_by_role("link", name="去看看活动").click()
    member.get_by_role("link", name="周末飞盘交友 · 西湖").click()
    member.get_by_role("button", name="报名", exact=True).click()
    expect(member.locator(".status-pill")).to_have_text("已确认")
    assert_accessible(member)
    screenshot(member, "activities-member-signed-up")
    member.get_by_role("link", name="出示我的票券").click()
    expect(member.get_by_role("img", name="您的票券二维码")).to_be_visible()
    code = member.locator("[data-ticket-code]").inner_text().strip()
    assert len(code) == 9 and code[4] == "-"
    assert_accessible(member)
    screenshot(member, "activities-member-ticket")
    member.get_by_role("button", name="长辈版（大字）").click()
    expect(member.locator("html")).to_have_class("large-text")
    overflow = member.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the ticket scrolls {overflow}px sideways in large text"
    assert_accessible(member)
    screenshot(member, "activities-member-ticket-large-text")

    volunteer = new_phone()
    log_in(volunteer, site, VOLUNTEER_PHONE, "/staff/checkin")
    volunteer.locator("#code").fill(code.lower())
    volunteer.get_by_role("button", name="签到", exact=True).click()
    expect(volunteer.get_by_role("status")).to_contain_text("签到成功")
    assert_accessible(volunteer)
    screenshot(volunteer, "activities-volunteer-checked-in")
    volunteer.locator("#code").fill(code)
    volunteer.get_by_role("button", name="签到", exact=True).click()
    expect(volunteer.get_by_role("alert")).to_contain_text("已签到入场")
    screenshot(volunteer, "activities-volunteer-refused")

    member.reload()
    expect(member.get_by_role("status")).to_contain_text("您已签到")
    for path, name in (
        ("/activities", "activities-member-list"),
        ("/my/activities", "activities-member-mine"),
        ("/consultations", "activities-member-consultations"),
    ):
        member.goto(f"{site.url}{path}")
        assert_accessible(member)
        screenshot(member, name)
