"""What each kind of notification says and where it leads, in the reader's language.

Parts store only a kind and ids (platform/notifications.py); the wording and the page are
the web layer's, so a new kind adds one line here.
"""

from __future__ import annotations

from typing import Any

from qingyuan.platform.i18n import gettext_lazy as _
from qingyuan.platform.models import Notification

NOTICES: dict[str, tuple[Any, str]] = {
    "match.proposed": (_("Your match for today has arrived."), "/matches"),
    "connection.created": (_("You both said yes: a new connection is open."), "/connections"),
    "introduction.created": (_("A matchmaker has introduced someone to you."), "/introductions"),
}
FALLBACK = (_("You have a new notice."), "/home")


def notice_json(notification: Notification) -> dict[str, Any]:
    text, url = NOTICES.get(notification.kind, FALLBACK)
    return {
        "id": notification.id,
        "kind": notification.kind,
        "text": str(text),
        "url": url,
        "created_at": notification.created_at.isoformat(),
        "read": notification.read_at is not None,
    }
