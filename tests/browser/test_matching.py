"""每日速配 on a phone, end to end: today's match with reasons, two likes, a connection; the
profile and the values questionnaire in Chinese, English and 长辈版; axe and screenshots.

The population is `qingyuan demo`'s: staff and persona members verified for real, with profiles,
questionnaires and today's match already run — all before the server starts, so the test thread
never opens the ORM while the server (and its embedded worker) runs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from qingyuan import demo
from qingyuan.matching.models import Profile, Proposal
from qingyuan.parts import connected
from qingyuan.platform import accounts
from qingyuan.platform.crypto import cipher_for
from qingyuan.platform.models import User
from qingyuan.settings import Settings
from tests.browser.conftest import assert_accessible, browser_settings, screenshot, serve
from tests.conftest import install_migrated

pytestmark = pytest.mark.browser

DEMO_MEMBERS = 12  # ~10 s of seeding, and still a few proposals today
# 我的 carries the unread count when there is one (every demo member has today's notice).
NAV_ITEMS = [
    re.compile(r"^我的(\s*\d+ 条未读通知)?$"),
    "今日速配",
    re.compile(r"^我的缘分(\s*\d+ 条未读)?$"),
    "活动",
    "资料",
    "退出登录",
]


@dataclass(frozen=True)
class Member:
    phone: str
    nickname: str


@dataclass(frozen=True)
class MatchDay:
    url: str
    passwords: dict[str, str]  # by phone: every demo member has their own
    a: Member  # the two sides of today's richest proposal
    b: Member
    reasons: int
    shared_tags: int
    other: Member  # a third member, for the profile and questionnaire pages


async def _today_pairs(settings: Settings) -> list[tuple[Proposal, Member, Member]]:
    cipher = cipher_for(settings)
    today = datetime.now(ZoneInfo(settings.timezone)).date()

    async def member(user_id: int) -> Member:
        user = await User.get(id=user_id)
        profile = await Profile.get(user_id=user_id)
        return Member(accounts.phone_of(cipher, user), profile.nickname)

    async with connected(settings):
        proposals = await Proposal.filter(day=today).order_by("id")
        return [(p, await member(p.a_id), await member(p.b_id)) for p in proposals]


@pytest.fixture(scope="module")
def match_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MatchDay]:
    settings = browser_settings(tmp_path_factory.mktemp("matching") / "var")
    install_migrated(settings)
    logins = asyncio.run(demo.seed(settings, members=DEMO_MEMBERS))
    pairs = asyncio.run(_today_pairs(settings))
    assert len(pairs) >= 2, f"the demo population has {len(pairs)} proposals today"

    def richness(pair: tuple[Proposal, Member, Member]) -> int:
        return len(pair[0].reasons)

    proposal, a, b = max(pairs, key=richness)
    shared = next((r["tags"] for r in proposal.reasons if r["code"] == "shared_interests"), [])
    other = next(p for p in pairs if p[0].id != proposal.id)[1]
    passwords = {login.phone: login.password for login in logins}
    with serve(settings) as url:
        yield MatchDay(url, passwords, a, b, len(proposal.reasons), len(shared), other)


def log_in(page: Page, day: MatchDay, member: Member, next_path: str) -> None:
    page.goto(f"{day.url}/login?next={next_path}")
    page.locator("#phone").fill(member.phone)
    page.locator("#password").fill(day.passwords[member.phone])
    page.get_by_role("main").get_by_role("button").click()
    page.wait_for_url(f"**{next_path}")


def assert_nav_fits(page: Page, items: list[str] | None = None) -> None:
    """The member menu: every item present, tappable (≥ 44 px) and inside the viewport width;
    the page itself never scrolls sideways."""
    nav = page.get_by_role("navigation")
    if items:
        expect(nav.locator("li")).to_have_text(items)
    width = page.viewport_size["width"]
    for item in nav.locator("a, button").all():
        box = item.bounding_box()
        assert box and box["height"] >= 44, item.evaluate("e => e.outerHTML")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls {overflow}px sideways at {width}px"


def assert_nav_is_compact(page: Page) -> None:
    """In Chinese at 390 px: 退出登录 beside the brand, the five links on one row below."""
    brand = page.locator(".brand").bounding_box()
    log_out = page.get_by_role("navigation").get_by_role("button", name="退出登录").bounding_box()
    assert brand and log_out and abs(log_out["y"] - brand["y"]) < 8, (brand, log_out)
    tops = {
        round(link.bounding_box()["y"])
        for link in page.get_by_role("navigation").locator("a").all()
    }
    assert len(tops) == 1, f"the menu links sit on {len(tops)} rows"


def test_both_like_today_and_both_see_the_connection(match_day, new_phone):
    a_page = new_phone("zh-CN")
    log_in(a_page, match_day, match_day.a, "/matches")
    expect(a_page.get_by_role("heading", level=1)).to_have_text("今日速配")
    assert_nav_fits(a_page, NAV_ITEMS)
    assert_nav_is_compact(a_page)
    match = a_page.get_by_role("region", name=f"与 {match_day.b.nickname} 的推荐")
    expect(match.get_by_role("heading", level=2)).to_have_text(match_day.b.nickname)
    expect(match.get_by_role("heading", name="为什么推荐你们")).to_be_visible()
    expect(match.locator(".reasons li")).to_have_count(match_day.reasons)
    expect(
        match.get_by_role("list", name="已认证信息").get_by_role("listitem").first
    ).to_be_visible()
    expect(match.locator(".tag.shared")).to_have_count(match_day.shared_tags)
    api = a_page.request.get(f"{match_day.url}/api/v1/matches/today").json()
    [proposal] = api["proposals"]
    assert proposal["member"]["nickname"] == match_day.b.nickname
    assert proposal["my_decision"] is None and len(proposal["reasons"]) == match_day.reasons
    screenshot(a_page, "matches-today-zh")
    assert_accessible(a_page)

    match.get_by_role("button", name="喜欢").click()
    a_page.wait_for_url("**/matches")
    expect(a_page.get_by_role("status")).to_have_text(
        "你喜欢了 TA。如果 TA 也喜欢你，你们就可以开始聊天。"
    )
    expect(a_page.get_by_role("button", name="喜欢")).to_have_count(0)
    screenshot(a_page, "matches-liked-zh")
    assert_accessible(a_page)
    a_page.goto(f"{match_day.url}/connections")
    expect(a_page.locator("section.connection")).to_have_count(0)

    b_page = new_phone("zh-CN")
    log_in(b_page, match_day, match_day.b, "/matches")
    b_match = b_page.locator("section.match")
    expect(b_match.get_by_role("heading", level=2)).to_have_text(match_day.a.nickname)
    b_match.get_by_role("button", name="喜欢").click()
    b_page.wait_for_url("**/connections")
    expect(b_page.get_by_role("heading", level=1)).to_have_text("我的缘分")
    cards = b_page.locator("section.connection")
    expect(cards).to_have_count(1)
    expect(cards.get_by_role("heading", level=2)).to_have_text(match_day.a.nickname)
    assert_nav_fits(b_page, NAV_ITEMS)
    screenshot(b_page, "connections-zh")
    assert_accessible(b_page)

    a_page.reload()
    expect(a_page.locator("section.connection").get_by_role("heading", level=2)).to_have_text(
        match_day.b.nickname
    )
    [connection] = a_page.request.get(f"{match_day.url}/api/v1/connections").json()["connections"]
    assert connection["member"]["nickname"] == match_day.b.nickname
    assert connection["source"] == "match"

    b_page.goto(f"{match_day.url}/home")
    notices = b_page.get_by_role("region", name="通知")
    expect(notices.get_by_role("link", name="新： 双方互相喜欢：新的联系已建立。")).to_be_visible()
    expect(b_page.locator(".count-badge")).to_contain_text("2")  # today's match + the connection
    assert_nav_fits(b_page, NAV_ITEMS)
    assert_nav_is_compact(b_page)
    screenshot(b_page, "home-notices-zh")
    assert_accessible(b_page)
    notices.get_by_role("button", name="全部标为已读").click()
    b_page.wait_for_url("**/home")
    expect(b_page.locator(".count-badge")).to_have_count(0)
    expect(notices.locator("li.unread")).to_have_count(0)

    a_page.goto(f"{match_day.url}/matches/history")
    expect(a_page.get_by_role("heading", level=1)).to_have_text("往期推荐")
    screenshot(a_page, "match-history-zh")
    assert_accessible(a_page)


def test_profile_is_edited_and_saved(match_day, new_phone):
    page = new_phone("zh-CN")
    log_in(page, match_day, match_day.other, "/profile")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的资料")
    expect(page.get_by_label("昵称")).to_have_value(match_day.other.nickname)
    assert_nav_fits(page, NAV_ITEMS)
    screenshot(page, "profile-zh")
    assert_accessible(page)

    bio = "周末喜欢飞盘和剧本杀，也想学做饭。"
    page.get_by_label("自我介绍").fill(bio)
    page.get_by_label("身高（厘米，选填）").fill("171")
    interests = page.get_by_role("group", name="兴趣（最多 10 个）")
    chip = interests.get_by_role("checkbox").first
    was_checked = chip.is_checked()
    chip.set_checked(not was_checked)
    page.get_by_role("button", name="保存资料").click()
    page.wait_for_url("**/profile?saved=1")
    expect(page.get_by_role("status")).to_have_text("已保存。")
    expect(page.get_by_label("自我介绍")).to_have_value(bio)
    expect(page.get_by_label("身高（厘米，选填）")).to_have_value("171")
    assert interests.get_by_role("checkbox").first.is_checked() is not was_checked
    screenshot(page, "profile-saved-zh")
    assert_accessible(page)


def test_questionnaire_is_answered_and_saved(match_day, new_phone):
    page = new_phone("zh-CN")
    log_in(page, match_day, match_day.other, "/questionnaire")
    expect(page.get_by_role("heading", level=1)).to_have_text("价值观问卷")
    expect(page.locator("fieldset.question")).to_have_count(12)
    assert_nav_fits(page, NAV_ITEMS)
    screenshot(page, "questionnaire-zh")
    assert_accessible(page)

    first = page.locator("fieldset.question").first
    first.get_by_label("我的答案").select_option(index=1)
    first.get_by_label("重要程度").select_option(index=4)
    accept = first.get_by_role("group", name="我能接受的答案").get_by_role("checkbox")
    accept.nth(0).set_checked(False)
    accept.nth(1).set_checked(True)
    page.get_by_role("button", name="保存答案").click()
    page.wait_for_url("**/questionnaire?saved=1")
    expect(page.get_by_role("status")).to_have_text("已保存。")
    first = page.locator("fieldset.question").first
    expect(first.get_by_label("我的答案")).to_have_value("1")
    expect(first.get_by_label("重要程度")).to_have_value("4")
    accept = first.get_by_role("group", name="我能接受的答案").get_by_role("checkbox")
    assert [box.is_checked() for box in accept.all()][:2] == [False, True]
    screenshot(page, "questionnaire-saved-zh")
    assert_accessible(page)


def test_profile_and_questionnaire_in_english(match_day, new_phone):
    page = new_phone("en")
    log_in(page, match_day, match_day.other, "/profile")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", level=1)).to_have_text("My profile")
    assert_nav_fits(page)
    screenshot(page, "profile-en")
    assert_accessible(page)
    page.get_by_role("button", name="Save profile").click()
    page.wait_for_url("**/profile?saved=1")
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.goto(f"{match_day.url}/questionnaire")
    expect(page.get_by_role("heading", level=1)).to_have_text("Values questionnaire")
    screenshot(page, "questionnaire-en")
    assert_accessible(page)
    page.goto(f"{match_day.url}/matches")
    assert_nav_fits(page)
    screenshot(page, "matches-today-en")
    assert_accessible(page)


def test_large_text_mode_on_the_matching_pages(match_day, new_phone):
    page = new_phone("zh-CN")
    log_in(page, match_day, match_day.other, "/profile")
    page.get_by_role("button", name="长辈版（大字）").click()
    page.wait_for_url("**/profile")
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 18
    assert_nav_fits(page, NAV_ITEMS)
    screenshot(page, "profile-large-text")
    assert_accessible(page)
    for path, name in [
        ("/questionnaire", "questionnaire-large-text"),
        ("/matches", "matches-today-large-text"),
    ]:
        page.goto(f"{match_day.url}{path}")
        assert_nav_fits(page, NAV_ITEMS)
        screenshot(page, name)
        assert_accessible(page)
