"""Must-show 4: two members chat on phones in two browser contexts (one in Chinese, one in
English): live delivery over the WebSocket, the unread count in the navigation, a scam warning
shown to the recipient in their language, and a block that ends the chat on both screens.
axe-checked; screenshots in test-artifacts/browser/chat-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from qingyuan import demo
from qingyuan.connections import ConnectionSource
from qingyuan.connections.pairs import open_connection
from qingyuan.matching import Profile
from qingyuan.parts import connected
from qingyuan.platform import accounts
from qingyuan.platform.crypto import cipher_for
from tests.browser.conftest import assert_accessible, browser_settings, screenshot, serve
from tests.conftest import install_migrated

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Chat:
    url: str
    passwords: dict[str, str]  # by phone: every demo member has their own
    phones: tuple[str, str]
    nicknames: tuple[str, str]
    connection_id: int


async def _connect(settings, phones: list[str]) -> tuple[int, list[str], list[str]]:
    """Connect the first two verified demo members (the showcase includes rejected ones)."""
    cipher = cipher_for(settings)
    async with connected(settings):
        chosen = []
        for phone in phones:
            user = await accounts.find_by_phone(cipher, phone)
            if profile := await Profile.get_or_none(user_id=user.id):
                chosen.append((user, phone, profile.nickname))
        (a, phone_a, name_a), (b, phone_b, name_b) = chosen[:2]
        connection = await open_connection(a.id, b.id, ConnectionSource.MATCH)
    return connection.id, [phone_a, phone_b], [name_a, name_b]


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chat]:
    settings = browser_settings(tmp_path_factory.mktemp("chat") / "var")
    install_migrated(settings)
    logins = asyncio.run(demo.seed(settings, members=4))
    members = [login for login in logins if login.role == "member"]
    connection_id, phones, nicknames = asyncio.run(_connect(settings, [m.phone for m in members]))
    with serve(settings) as url:
        passwords = {m.phone: m.password for m in members}
        yield Chat(url, passwords, tuple(phones), tuple(nicknames), connection_id)


def log_in(page: Page, chat: Chat, phone: str, next_path: str) -> None:
    page.goto(f"{chat.url}/login?next={next_path}")
    page.locator("#phone").fill(phone)
    page.locator("#password").fill(chat.passwords[phone])
    page.get_by_role("main").get_by_role("button").click()
    page.wait_for_url(f"**{next_path}")


def wait_live(page: Page) -> None:
    expect(page.locator("#messages")).to_have_attribute("data-live", "true")


def test_two_members_chat_see_the_warning_and_a_block_ends_it(chat, new_phone):
    chat_path = f"/connections/{chat.connection_id}"
    a = new_phone("zh-CN")
    b = new_phone("en-US")
    log_in(a, chat, chat.phones[0], chat_path)
    log_in(b, chat, chat.phones[1], "/connections")

    # A writes first; B, elsewhere, sees the unread count in the navigation
    expect(a.get_by_role("heading", level=1)).to_have_text(f"与 {chat.nicknames[1]} 聊天")
    wait_live(a)
    a.get_by_label("你的消息").fill("你好！周末有空一起去西湖走走吗？")
    a.get_by_role("button", name="发送").click()
    expect(a.locator(".message.mine .message-text")).to_have_text(
        ["你好！周末有空一起去西湖走走吗？"]
    )
    b.reload()
    nav_link = b.get_by_role("navigation").get_by_role("link", name="Connections")
    expect(nav_link.locator(".count-badge")).to_contain_text("1")
    screenshot(b, "chat-connections-unread-en")
    assert_accessible(b)

    # B opens the chat: the message is there, and the count is gone
    b.get_by_role("link", name=f"Chat with {chat.nicknames[0]}").click()
    b.wait_for_url(f"**{chat_path}")
    expect(b.locator(".message.theirs .message-text")).to_have_text(
        ["你好！周末有空一起去西湖走走吗？"]
    )
    expect(nav_link.locator(".count-badge")).to_have_count(0)
    wait_live(b)
    expect(a.locator(".message.mine .message-read")).to_have_text(["已读"])  # live read receipt

    # live both ways, without reloading; B's scam-like message warns A, in Chinese
    b.get_by_label("Your message").fill(
        "Sure! By the way, could you transfer money to my bank account?"
    )
    b.get_by_role("button", name="Send").click()
    warning = a.locator(".message.theirs .message-warning")
    expect(warning).to_contain_text("安全提醒")
    expect(warning).to_contain_text("转账")
    expect(b.locator(".message-warning")).to_have_count(0)  # the sender is not warned
    a.get_by_label("你的消息").fill("我们还是见面再说吧，加我微信也行")
    a.get_by_role("button", name="发送").click()
    english = b.locator(".message.theirs .message-warning")
    expect(english).to_contain_text("Be careful")
    expect(english).to_contain_text("moving to another app")

    def times(page: Page) -> list[str]:  # without the read receipt
        return [t.split(" · ")[0].strip() for t in page.locator(".message-time").all_inner_texts()]

    live = times(b)
    b.reload()
    expect(b.locator(".message")).to_have_count(3)
    assert times(b) == live == times(a)  # live messages show the time (zone) a reload shows
    wait_live(b)
    screenshot(a, "chat-warning-zh")
    assert_accessible(a)
    screenshot(b, "chat-warning-en")
    assert_accessible(b)

    # a refused message keeps the text and says why
    b.get_by_label("Your message").fill("   ")
    b.evaluate("document.getElementById('text').removeAttribute('required')")
    b.get_by_role("button", name="Send").click()
    expect(b.locator("#chat-error")).to_have_text("Write a message first.")

    # B reports A to the moderators, then goes back to the chat
    b.get_by_role("link", name=f"Report {chat.nicknames[0]}").click()
    b.get_by_label("Asks for money or investments (scam)").check()
    b.get_by_label("What happened (optional)").fill("Asked me to move to WeChat.")
    screenshot(b, "chat-report-en")
    assert_accessible(b)
    b.get_by_role("button", name="Send report").click()
    expect(b.get_by_role("status")).to_contain_text("Thank you")
    b.goto(f"{chat.url}{chat_path}")
    wait_live(b)

    # A blocks B: A's chat is gone, and B's screen leaves the chat at once
    a.get_by_role("button", name=f"拉黑 {chat.nicknames[1]}").click()
    a.wait_for_url("**/connections?blocked=1")
    expect(a.get_by_role("status")).to_have_text("已拉黑，你们不会再看到对方。")
    expect(a.locator("section.connection")).to_have_count(0)
    b.wait_for_url("**/connections")
    expect(b.locator("section.connection")).to_have_count(0)
    screenshot(a, "chat-blocked-zh")
    assert_accessible(a)
    refused = b.request.get(f"{chat.url}/api/v1/connections/{chat.connection_id}/messages")
    assert refused.status == 404
    assert a.goto(f"{chat.url}{chat_path}").status == 404
