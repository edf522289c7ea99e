"""What the platform kernel keeps encrypted: the account's phone number (bound to its
purpose only, as it always was; its lookups go through the blind index)."""

from __future__ import annotations

from typing import Any

from qingyuan.platform.accounts import PHONE_PURPOSE
from qingyuan.platform.encryption import EncryptedColumn
from qingyuan.platform.models import User


def phone(row: Any) -> str:
    return PHONE_PURPOSE


COLUMNS = (EncryptedColumn(User, "phone_encrypted", phone),)
