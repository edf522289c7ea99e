"""Safety of connections: blocks, reports and their moderation, scam nudges, message limits.

Romance scams (杀猪盘) build trust in chat and then ask for money, an "investment", a bet, a
loan, or a move to another app where we cannot warn anyone. Real-name verification does not
stop bought accounts, so messages in a young connection are matched against patterns (Chinese
and English, replaceable by a setting) and the recipient sees a warning beside a flagged one.

Settings (fields of `connections/settings.py`):

- `QINGYUAN_CHAT_SCAM_PATTERNS`: JSON object, category → list of regular expressions; replaces
  `DEFAULT_SCAM_PATTERNS` (categories without a warning text get the generic one). They are
  matched, case-insensitively, against the message as `fold` writes it: simplified
  characters, no separators between Chinese characters, Latin letters for look-alikes.
- `QINGYUAN_CHAT_YOUNG_CONNECTION_DAYS` (14): how long a connection counts as young.
- `QINGYUAN_CHAT_NEW_MEMBER_DAYS` (14): members verified more recently (or only through an
  appeal) send at the "new" rate.
- `QINGYUAN_RATE_CHAT_ESTABLISHED` (300/3600), `QINGYUAN_RATE_CHAT_NEW` (60/3600),
  `QINGYUAN_RATE_CHAT_REPORTED` (10/3600): messages per window by verification level; a member
  with an open or upheld report against them sends at the reported rate whatever their level.
- `QINGYUAN_CHAT_MAX_LENGTH` (1000): characters per message.
- `QINGYUAN_RATE_REPORT` (10/86400): reports one member may file per window (a flood of
  reports would bury real ones and put the reduced message rate on innocent members).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, cast

import opencc
from redis.asyncio import Redis
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.timezone import now

from qingyuan.connections import chat
from qingyuan.connections.encrypted_columns import MESSAGE_TEXT, REPORT_DETAILS
from qingyuan.connections.models import (
    Block,
    Connection,
    Message,
    Report,
    ReportReason,
    ReportStatus,
)
from qingyuan.connections.schemas import DecideReport, ReportDecision, ReportOut
from qingyuan.connections.settings import connection_settings
from qingyuan.matching.decisions import were_proposed
from qingyuan.platform import actions, audit
from qingyuan.platform.actions import AuditAction
from qingyuan.platform.crypto import PIICipher
from qingyuan.platform.errors import Conflict, NotFound, RateLimited, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.kernel import Kernel
from qingyuan.platform.models import User
from qingyuan.platform.settings import PlatformSettings, RateLimit
from qingyuan.verification.status import Standing

DEFAULT_SCAM_PATTERNS: dict[str, list[str]] = {
    "money": [
        r"转账",
        r"汇款",
        r"打钱",
        r"借.{0,3}钱",
        r"银行卡",
        r"(send|transfer|wire|lend) (me )?(some )?money",
        r"bank (account|transfer|card)",
    ],
    "investment": [
        r"投资",
        r"理财",
        r"炒股",
        r"虚拟币",
        r"数字货币",
        r"USDT",
        r"带你(赚|挣)",
        r"稳赚",
        r"invest",
        r"crypto",
        r"bitcoin",
        r"trading platform",
        r"guaranteed (return|profit)",
    ],
    "gambling": [
        r"博彩",
        r"赌博",
        r"赌场",
        r"下注",
        r"彩票",
        r"casino",
        r"gambl",
        r"betting",
    ],
    "loan": [r"贷款", r"网贷", r"借贷", r"\bloans?\b", r"borrow"],
    "other_app": [
        r"加.{0,2}微信",
        r"微信号",
        r"加.{0,2}(QQ|qq|vx|VX)",
        r"下载.{0,8}(app|APP|软件)",
        r"telegram",
        r"whatsapp",
        r"add me on",
        r"download (the |this |our )?app",
    ],
}


class Level(StrEnum):
    ESTABLISHED = "established"
    NEW = "new"
    REPORTED = "reported"


@dataclass(frozen=True)
class SafetySettings:
    scam_patterns: dict[str, re.Pattern[str]]
    young_connection: timedelta
    new_member: timedelta
    limits: dict[Level, RateLimit]
    max_length: int
    report_limit: RateLimit


def _compile(patterns: dict[str, list[str]]) -> dict[str, re.Pattern[str]]:
    return {
        category: re.compile("|".join(f"(?:{p})" for p in items), re.IGNORECASE)
        for category, items in patterns.items()
        if items
    }


def safety_settings(settings: PlatformSettings) -> SafetySettings:
    """The chat safety rules of matching's settings section, patterns compiled."""
    config = connection_settings(settings)
    return SafetySettings(
        scam_patterns=_compile(config.chat_scam_patterns or DEFAULT_SCAM_PATTERNS),
        young_connection=timedelta(days=config.chat_young_connection_days),
        new_member=timedelta(days=config.chat_new_member_days),
        limits={
            Level.ESTABLISHED: config.rate_chat_established,
            Level.NEW: config.rate_chat_new,
            Level.REPORTED: config.rate_chat_reported,
        },
        max_length=config.chat_max_length,
        report_limit=config.rate_report,
    )


# --- scam nudges -----------------------------------------------------------------------------


# Letters of other scripts that look like Latin ones (after casefolding), and digits written
# for letters inside words: "bіtcoin" with a Cyrillic і, "сrурtо", "ρrofit", "b1tc0in".
_LOOKALIKES = str.maketrans(
    {
        **dict.fromkeys("аɑα", "a"),
        **dict.fromkeys("ьвβ", "b"),
        **dict.fromkeys("сϲ", "c"),
        **dict.fromkeys("ԁ", "d"),
        **dict.fromkeys("еεё", "e"),
        **dict.fromkeys("ɡ", "g"),
        **dict.fromkeys("һ", "h"),
        **dict.fromkeys("іιıї", "i"),
        **dict.fromkeys("ј", "j"),
        **dict.fromkeys("кκ", "k"),
        **dict.fromkeys("ӏ", "l"),
        **dict.fromkeys("оοσ", "o"),
        **dict.fromkeys("рρ", "p"),
        **dict.fromkeys("ԛ", "q"),
        **dict.fromkeys("ѕ", "s"),
        **dict.fromkeys("тτ", "t"),
        **dict.fromkeys("υ", "u"),
        **dict.fromkeys("νѵ", "v"),
        **dict.fromkeys("ԝω", "w"),
        **dict.fromkeys("хχ", "x"),
        **dict.fromkeys("уү", "y"),
    }
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})
_MIXED_WORD = re.compile(r"[a-z0-9@]*[a-z][a-z0-9@]*")
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_BETWEEN_CJK = re.compile(rf"(?<={_CJK})[\W_]+(?={_CJK})")
_SPACED_LETTERS = re.compile(r"(?<![a-z0-9])[a-z0-9](?:[\W_]+[a-z0-9](?![a-z0-9]))+")
_TO_SIMPLIFIED = opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """`text` as the scam patterns see it, so that writing a word differently does not hide
    it: compatibility forms folded (NFKC: full-width letters, digits and spaces), traditional
    characters made simplified, case folded, look-alike letters of other scripts and digits
    inside words read as Latin letters, and separators dropped between Chinese characters
    ("转 账", "投_资") and between spaced-out letters ("U S D T")."""
    text = _TO_SIMPLIFIED.convert(unicodedata.normalize("NFKC", text))
    text = text.casefold().translate(_LOOKALIKES)
    text = _MIXED_WORD.sub(lambda word: word[0].translate(_LEET), text)
    text = _BETWEEN_CJK.sub("", text)
    return _SPACED_LETTERS.sub(lambda run: re.sub(r"[\W_]+", "", run[0]), text)


def scam_risk(rules: SafetySettings, connected_at: datetime, text: str) -> str | None:
    """The first pattern category `text` matches (as `fold` sees it), if the connection (made
    at `connected_at`) is still young."""
    if now() - connected_at > rules.young_connection:
        return None
    folded = fold(text)
    for category, pattern in rules.scam_patterns.items():
        if pattern.search(folded):
            return category
    return None


def warning_json(risk: str) -> dict[str, str]:
    """The warning a recipient sees beside a flagged message, in the reader's language."""
    topic = {
        "money": _("a money transfer"),
        "investment": _("an investment"),
        "gambling": _("gambling"),
        "loan": _("a loan"),
        "other_app": _("moving to another app"),
    }.get(risk, _("money"))
    return {
        "code": risk,
        "text": _(
            "Be careful: this message is about %(topic)s. Scammers build trust in chat and then "
            "ask for money, investments or a move to another app. Never send money to someone "
            "you have not met, and report them if you are unsure.",
            topic=topic,
        ),
    }


# --- message validation and limits -----------------------------------------------------------


def clean_text(rules: SafetySettings, text: str) -> str:
    """The message as stored, or a 422 saying what is wrong with it: the rules on the text as
    stored (stripped, NFC), which the request model (`SendMessage`) cannot say."""
    if not text.strip():
        raise ValidationFailed(fields={"text": _("Write a message first.")})
    text = unicodedata.normalize("NFC", text.strip())
    if len(text) > rules.max_length:
        raise ValidationFailed(
            fields={"text": _("A message can be at most %(n)d characters.", n=rules.max_length)}
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in "\n\t" for c in text):
        raise ValidationFailed(fields={"text": _("The message contains invalid characters.")})
    return text


async def is_reported(user_id: int) -> bool:
    return await Report.filter(
        reported_id=user_id, status__in=(ReportStatus.OPEN, ReportStatus.WARNED)
    ).exists()


async def level_of(rules: SafetySettings, user_id: int, standing: Standing) -> Level:
    """Which message limit applies: reported beats everything, then how settled the
    verification is (recent, or passed only on appeal, counts as new)."""
    if await is_reported(user_id):
        return Level.REPORTED
    verified_at = standing.verified_at
    if verified_at is None or standing.via_appeal or now() - verified_at < rules.new_member:
        return Level.NEW
    return Level.ESTABLISHED


def message_bucket(user_id: int) -> str:
    """The rate-limit bucket of `user_id`'s messages (all their chats and devices together)."""
    return f"chat:{user_id}"


def too_fast(retry_after: int) -> RateLimited:
    return RateLimited(retry_after, _("You are sending messages too fast. Please wait a while."))


# --- blocks ----------------------------------------------------------------------------------


async def have_met(user_id: int, other_id: int) -> bool:
    """Whether `user_id` knows `other_id` at all (a connection or a proposal): only then may
    they block or report them, so member ids cannot be probed."""
    a_id, b_id = sorted((user_id, other_id))
    return await Connection.exists(a_id=a_id, b_id=b_id) or await were_proposed(a_id, b_id)


async def do_block(redis: Redis, blocker: User, blocked_id: int) -> list[int]:
    """Block at once and both ways: the connection (if any) ends, the matcher never proposes
    the pair again (it reads blocks in either direction), and after the commit both members'
    open sockets learn the chat `ended`. Returns the ended connection ids."""
    if blocker.id == blocked_id or not await have_met(blocker.id, blocked_id):
        raise NotFound()
    a_id, b_id = sorted((blocker.id, blocked_id))
    async with actions.transaction():
        _, created = await Block.get_or_create(blocker_id=blocker.id, blocked_id=blocked_id)
        ended = cast(
            list[int],  # Tortoise types flat values_list rows as tuples
            await Connection.filter(a_id=a_id, b_id=b_id, ended_at__isnull=True).values_list(
                "id", flat=True
            ),
        )
        await Connection.filter(id__in=list(ended)).update(ended_at=now())
        if created or ended:
            await audit.record(
                blocker, AuditAction.MEMBER_BLOCKED, target_type="user", target_id=blocked_id,
                ended_connection_ids=list(ended),
            )  # fmt: skip
        for connection_id in ended:
            event = {"type": "ended", "connection_id": connection_id}
            actions.after_commit(partial(chat.publish, redis, event, blocker.id, blocked_id))
    return list(ended)


async def is_blocked(user_id: int, other_id: int) -> bool:
    return await Block.filter(
        Q(blocker_id=user_id, blocked_id=other_id) | Q(blocker_id=other_id, blocked_id=user_id)
    ).exists()


# --- reports and moderation ------------------------------------------------------------------


async def report(
    cipher: PIICipher,
    reporter_id: int,
    reported_id: int,
    reason: ReportReason,
    details: str,
    connection_id: int | None,
) -> Report:
    """File a report for the admins' queue (the request model `ReportMember` checks the
    reason and the details' length)."""
    if reporter_id == reported_id or not await have_met(reporter_id, reported_id):
        raise NotFound()
    report: Report = await REPORT_DETAILS.create(
        cipher,
        details.strip(),
        reporter_id=reporter_id,
        reported_id=reported_id,
        reason=ReportReason(reason),
        connection_id=connection_id,
    )
    return report


def reason_text(reason: str) -> str:
    texts: dict[str, str] = {
        ReportReason.SCAM: _("Asks for money or investments (scam)"),
        ReportReason.HARASSMENT: _("Harassment or threats"),
        ReportReason.FAKE_PROFILE: _("Fake profile or not the real person"),
        ReportReason.INAPPROPRIATE: _("Inappropriate messages or photos"),
        ReportReason.OTHER: _("Something else"),
    }
    return texts.get(reason, reason)


async def open_reports() -> list[Report]:
    return await Report.filter(status=ReportStatus.OPEN).order_by("id")


async def report_view(cipher: PIICipher, item: Report) -> ReportOut:
    """A report as moderators see it (`ReportOut`)."""
    return (await reports_view(cipher, [item]))[0]


async def reports_view(cipher: PIICipher, items: Sequence[Report]) -> list[ReportOut]:
    """`report_view` of many reports, the reports against each member counted in one query."""
    reported = {item.reported_id for item in items}
    against = dict(
        await Report.filter(reported_id__in=list(reported))
        .annotate(n=Count("id"))
        .group_by("reported_id")
        .values_list("reported_id", "n")
    )
    return [
        ReportOut(
            id=item.id,
            reason=item.reason,
            reason_text=reason_text(item.reason),
            details=REPORT_DETAILS.open(cipher, item),
            status=item.status,
            reporter_id=item.reporter_id,
            reported_id=item.reported_id,
            connection_id=item.connection_id,
            reports_against=against.get(item.reported_id, 0),
            created_at=item.created_at,
        )
        for item in items
    ]


async def evidence(cipher: PIICipher, admin: User, item: Report) -> list[dict[str, Any]]:
    """The reported member's latest messages in the reported chat (`text`, `created_at`).
    Reading private messages is a staff view of personal communication, so it is
    audit-logged."""
    if item.connection_id is None:
        return []
    await audit.record(
        admin, AuditAction.REPORT_MESSAGES_VIEWED, target_type="report", target_id=item.id
    )
    latest = (
        await Message.filter(connection_id=item.connection_id, sender_id=item.reported_id)
        .order_by("-id")
        .limit(30)
    )
    return [
        {"text": MESSAGE_TEXT.open(cipher, m), "created_at": m.created_at} for m in reversed(latest)
    ]


DECISIONS: dict[ReportDecision, ReportStatus] = {
    "dismiss": ReportStatus.DISMISSED,
    "warn": ReportStatus.WARNED,
    "suspend": ReportStatus.SUSPENDED,
}
_DECISION_AUDIT: dict[ReportDecision, AuditAction] = {
    "dismiss": AuditAction.REPORT_DISMISSED,
    "warn": AuditAction.REPORT_WARNED,
    "suspend": AuditAction.REPORT_SUSPENDED,
}


async def do_decide_report(
    kernel: Kernel, admin: User, report_id: int, data: DecideReport
) -> Report:
    """An admin's decision, audit-logged: dismiss, warn (the reduced message rate stays) or
    suspend (`do_suspend_account`, in the same transaction)."""
    decision, note = data.decision, data.note
    async with actions.transaction():
        item = await Report.filter(id=report_id).select_for_update().first()
        if item is None:
            raise NotFound()
        if item.status != ReportStatus.OPEN:
            raise Conflict(_("This report has already been decided."))
        item.status, item.decided_by_id, item.decided_at = DECISIONS[decision], admin.id, now()
        # Only what changed: writing back the details read here could undo a key rotation.
        await item.save(update_fields=["status", "decided_by_id", "decided_at"])
        await audit.record(
            admin,
            _DECISION_AUDIT[decision],
            target_type="report",
            target_id=item.id,
            reason=note,
            reported_user_id=item.reported_id,
        )
        if decision == "suspend":
            reported = await User.get(id=item.reported_id)
            await do_suspend_account(kernel, reported, actor=admin, reason=note, report_id=item.id)
    return item


# --- suspension ------------------------------------------------------------------------------

SUSPENSION_REASON_MAX = 1000


def _suspension_reason(reason: str) -> str:
    reason = reason.strip()
    if not 1 <= len(reason) <= SUSPENSION_REASON_MAX:
        raise ValidationFailed(
            fields={
                "reason": _("Give a reason of at most %(n)d characters.", n=SUSPENSION_REASON_MAX)
            }
        )
    return reason


async def do_suspend_account(
    kernel: Kernel, user: User, *, actor: User | None, reason: str, **data: Any
) -> bool:
    """Suspend an account, whoever asks (an admin's report decision, `qingyuan account
    suspend`): it can no longer log in or be matched, and after the commit every session of
    it ends and its open sockets are told `revoked` (they close). Returns False, changing
    nothing, when it was suspended already. `data`: ids only, for the audit row."""
    async with actions.transaction():
        if not await _set_active(user, False, actor, reason, **data):
            return False
        actions.after_commit(partial(_log_out_everywhere, kernel, user.id))
    return True


async def do_unsuspend_account(user: User, *, actor: User | None, reason: str, **data: Any) -> bool:
    """Lift a suspension: the member may log in again (with a new session: the old ones ended
    with the suspension). Returns False, changing nothing, when the account was active."""
    async with actions.transaction():
        return await _set_active(user, True, actor, reason, **data)


async def _set_active(
    user: User, active: bool, actor: User | None, reason: str, **data: Any
) -> bool:
    """Flip the flag if it is not set that way yet, with the audit row; whether it flipped."""
    reason = _suspension_reason(reason)
    if not await User.filter(id=user.id, is_active=not active).update(is_active=active):
        return False
    user.is_active = active
    action = AuditAction.ACCOUNT_UNSUSPENDED if active else AuditAction.ACCOUNT_SUSPENDED
    await audit.record(actor, action, target_type="user", target_id=user.id, reason=reason, **data)
    return True


async def _log_out_everywhere(kernel: Kernel, user_id: int) -> None:
    await kernel.sessions.delete_all_for_user(user_id)
    await chat.publish(kernel.redis, {"type": "revoked"}, user_id)
