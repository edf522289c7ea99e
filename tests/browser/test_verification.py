"""Real-name registration and verification on a phone, end to end through the live server.

The embedded job worker asks the six in-process mock departments, so a registration turns into
"已认证" or "未通过" within seconds. Personas: qingyuan/verification/departments/PERSONAS.md.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from qingyuan.platform.models import Role
from tests.browser.conftest import ACCOUNTS, PASSWORD, assert_accessible, screenshot

pytestmark = pytest.mark.browser

LIN = ("林晓雯", "330102199807220027")  # clean woman: master, employed → verified
ZHENG_MARRIED = ("郑国强", "330106198806160932")  # married man → rejected (married)
QIAN_MARRIED = ("钱丽华", "310101199402271045")  # married woman → rejected, then appeal approved
MEMBER_PASSWORD = "qingyuan2026"
VERIFIED_WITHIN_MS = 20_000
STATUS = "[data-verification-status]"


def fill_registration(page: Page, person: tuple[str, str], phone: str) -> None:
    name, id_number = person
    page.get_by_label("真实姓名（与身份证一致）").fill(name)
    page.get_by_label("居民身份证号码").fill(id_number)
    page.get_by_label("手机号码").fill(phone)
    page.get_by_label("密码（至少 8 位，含字母和数字）").fill(MEMBER_PASSWORD)
    for checkbox in page.get_by_role("group", name="您的同意").get_by_role("checkbox").all():
        checkbox.check()


def register(page: Page, base: str, person: tuple[str, str], phone: str) -> None:
    page.goto(f"{base}/register")
    fill_registration(page, person, phone)
    page.get_by_role("button", name="注册并核验").click()
    page.wait_for_url("**/verification")


def freeze_polling(page: Page) -> None:
    """Fail the status page's polls so it cannot reload while axe or a screenshot runs."""
    page.route("**/api/v1/me/verification", lambda route: route.abort())


def thaw_polling(page: Page) -> None:
    page.unroute("**/api/v1/me/verification")


def wait_for_status(page: Page, status: str) -> None:
    """Wait for the status page's own polling (it reloads itself once the status changes)."""
    expect(page.locator(STATUS)).to_have_attribute(
        "data-verification-status", status, timeout=VERIFIED_WITHIN_MS
    )


def log_in(page: Page, base: str, phone: str, password: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_label("密码").fill(password)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{next_path}")


def test_registration_form_is_accessible_and_explains_consent(live_server, new_phone):
    page = new_phone("zh-CN")
    page.goto(f"{live_server.url}/register")
    assert page.get_by_role("heading", level=1).inner_text() == "实名注册"
    consents = page.get_by_role("group", name="您的同意")
    assert consents.get_by_role("checkbox").count() == 2
    screenshot(page, "register-zh")
    assert_accessible(page)


def test_wrong_check_character_is_flagged_without_echoing_the_id_number(live_server, new_phone):
    page = new_phone("zh-CN")
    page.goto(f"{live_server.url}/register")
    wrong = LIN[1][:-1] + "8"  # the check character of 330102199807220027 is 7
    fill_registration(page, (LIN[0], wrong), "13912345600")
    page.get_by_role("button", name="注册并核验").click()
    page.wait_for_load_state()
    id_field = page.get_by_label("居民身份证号码")
    expect(id_field).to_have_attribute("aria-invalid", "true")
    expect(id_field).to_have_value("")
    expect(id_field).to_be_focused()
    error = page.locator("#id_number-error")
    expect(error).to_have_text("身份证号码校验不通过，请检查是否输错。")
    assert id_field.get_attribute("aria-describedby") == "id_number-error"
    expect(page.get_by_role("alert")).to_have_text("请修改标出的内容。")
    assert wrong not in page.content() and LIN[1][:17] not in page.content()
    expect(page.get_by_label("真实姓名（与身份证一致）")).to_have_value(LIN[0])
    expect(page.get_by_label("手机号码")).to_have_value("13912345600")
    screenshot(page, "register-wrong-check-character")
    assert_accessible(page)


def test_clean_persona_registers_and_is_verified_with_badges(live_server, new_phone):
    page = new_phone("zh-CN")
    register(page, live_server.url, LIN, "13912345601")
    freeze_polling(page)
    status = page.locator(STATUS).get_attribute("data-verification-status")
    assert status in ("pending", "verified")
    expect(page.locator("[data-department]")).to_have_count(6)
    screenshot(page, f"verification-after-register-{status}")
    assert_accessible(page)
    thaw_polling(page)
    if status == "pending":
        page.reload()  # polls resume from a fresh page
    wait_for_status(page, "verified")
    expect(page.locator(".status-pill")).to_have_text("已认证")
    badges = page.get_by_role("list", name="认证徽章")
    expect(badges.get_by_role("listitem")).to_have_count(3)
    expect(badges.get_by_role("listitem")).to_contain_text(["已实名认证", "硕士", "在职"])
    departments = page.locator("[data-department]")
    expect(departments).to_have_count(6)
    expect(page.locator("[data-department].dept-confirmed")).to_have_count(6)
    expect(departments.locator(".dept-state")).to_have_text(["已确认"] * 6)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("heading", name="申诉")).to_have_count(0)
    screenshot(page, "verification-verified-zh")
    assert_accessible(page)
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/verification")
    expect(page.locator(".status-pill")).to_have_text("Verified")
    expect(page.get_by_role("list", name="Verified badges")).to_contain_text("Master's degree")
    screenshot(page, "verification-verified-en")
    assert_accessible(page)


def test_married_persona_sees_the_reason_and_appeals(live_server, new_phone):
    page = new_phone("zh-CN")
    register(page, live_server.url, ZHENG_MARRIED, "13912345602")
    wait_for_status(page, "rejected")
    expect(page.locator(".status-pill")).to_have_text("未通过")
    reason = page.get_by_role("alert")
    expect(reason).to_have_count(1)
    expect(reason).to_contain_text("已婚")
    civil_affairs = page.locator('[data-department="civil_affairs"]')
    expect(civil_affairs).to_have_class(re.compile(r"\bdept-negative\b"))
    expect(civil_affairs.locator(".dept-state")).to_have_text("未通过")
    expect(page.get_by_role("list", name="认证徽章")).to_have_count(0)
    screenshot(page, "verification-rejected-married")
    assert_accessible(page)

    page.get_by_role("button", name="提交申诉").click()  # too short: the browser's `required`
    expect(page.get_by_label("哪里有误？")).to_be_focused()
    page.get_by_label("哪里有误？").fill("我已于去年离婚，民政记录尚未更新，可提供离婚证。")
    page.get_by_role("button", name="提交申诉").click()
    page.wait_for_url("**/verification")
    expect(page.get_by_text("团委管理员正在审核您的申诉。")).to_be_visible()
    expect(page.get_by_label("哪里有误？")).to_have_count(0)
    expect(page.locator(".status-pill")).to_have_text("未通过")
    screenshot(page, "verification-appeal-under-review")
    assert_accessible(page)
    page.get_by_role("button", name="长辈版（大字）").click()
    page.wait_for_url("**/verification")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    expect(page.get_by_role("alert")).to_contain_text("已婚")
    screenshot(page, "verification-appeal-under-review-large-text")
    assert_accessible(page)


def test_admin_unmasks_and_approves_an_appeal(live_server, new_phone):
    base, phone = live_server.url, "13912345603"
    name, id_number = QIAN_MARRIED
    member = new_phone("zh-CN")
    register(member, base, QIAN_MARRIED, phone)
    wait_for_status(member, "rejected")
    member.get_by_label("哪里有误？").fill("民政部门的婚姻登记信息有误，我从未登记结婚。")
    member.get_by_role("button", name="提交申诉").click()
    expect(member.get_by_text("团委管理员正在审核您的申诉。")).to_be_visible()
    member.context.close()

    admin = new_phone("zh-CN")
    log_in(admin, base, ACCOUNTS[Role.ADMIN][0], PASSWORD, "/admin/verification")
    expect(admin.get_by_role("heading", level=1)).to_have_text("核验审核")
    masked_id = f"{id_number[:6]}{'*' * 8}{id_number[-4:]}"
    entry = admin.get_by_role("link").filter(has_text=masked_id)
    expect(entry).to_contain_text("钱**")
    expect(entry).to_contain_text("申诉待处理")
    main_text = admin.inner_text("main")
    assert name not in main_text and id_number not in main_text and phone not in main_text
    screenshot(admin, "admin-verification-queue")
    assert_accessible(admin)

    entry.click()
    admin.wait_for_url(re.compile(r"/admin/verification/\d+$"))
    facts = admin.locator("dl.facts")
    expect(facts).to_contain_text("钱**")
    expect(facts).to_contain_text(masked_id)
    expect(facts).to_contain_text(f"{phone[:3]}****{phone[-4:]}")
    expect(admin.locator("blockquote")).to_contain_text("从未登记结婚")
    screenshot(admin, "admin-verification-member-masked")
    assert_accessible(admin)

    reason = admin.get_by_label("查看完整信息的原因（将记入审计日志）")
    reason.fill("看看")  # under 10 characters: refused, nothing unmasked
    admin.get_by_role("button", name="查看完整信息").click()
    assert reason.evaluate("input => input.validity.tooShort")  # the browser says so first
    reason.evaluate("input => input.removeAttribute('minlength')")  # and the server too:
    admin.get_by_role("button", name="查看完整信息").click()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#reason-error")).to_have_text("请说明查看原因（10 至 500 个字）。")
    expect(facts).to_contain_text(masked_id)
    assert name not in admin.inner_text("main")
    screenshot(admin, "admin-verification-member-unmask-refused")
    assert_accessible(admin)
    reason.fill("核实申诉中的婚姻登记信息")
    admin.get_by_role("button", name="查看完整信息").click()
    expect(facts).to_contain_text(name)
    expect(facts).to_contain_text(id_number)
    expect(facts).to_contain_text(phone)
    screenshot(admin, "admin-verification-member-unmasked")
    assert_accessible(admin)

    admin.get_by_label("处理说明（将记入审计日志）").fill("已电话联系民政部门，确认记录有误。")
    admin.get_by_role("button", name="通过：认证该会员").click()
    admin.wait_for_url(re.compile(r"/admin/verification/\d+$"))
    expect(admin.get_by_role("heading", level=1)).to_contain_text("已认证")
    expect(admin.get_by_role("button", name="通过：认证该会员")).to_have_count(0)
    screenshot(admin, "admin-verification-member-approved")
    assert_accessible(admin)

    again = new_phone("zh-CN")
    log_in(again, base, phone, MEMBER_PASSWORD, "/verification")
    expect(again.locator(".status-pill")).to_have_text("已认证")
    expect(again.get_by_role("list", name="认证徽章")).to_contain_text("已实名认证")
    expect(again.get_by_role("alert")).to_have_count(0)  # the overridden reason is not shouted
    expect(again.get_by_role("heading", name="申诉")).to_have_count(0)
    screenshot(again, "verification-verified-after-appeal")
    assert_accessible(again)
