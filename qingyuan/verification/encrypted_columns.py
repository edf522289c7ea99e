"""What verification keeps encrypted: the member's real name and ID number (bound to their
purpose only, as they always were). New encrypted columns of verification are declared here,
so that `qingyuan keys rotate` re-encrypts them too."""

from __future__ import annotations

from typing import Any

from qingyuan.platform.encryption import EncryptedColumn
from qingyuan.verification.models import Member
from qingyuan.verification.registration import ID_PURPOSE, NAME_PURPOSE


def real_name(row: Any) -> str:
    return NAME_PURPOSE


def id_number(row: Any) -> str:
    return ID_PURPOSE


COLUMNS = (
    EncryptedColumn(Member, "real_name_encrypted", real_name),
    EncryptedColumn(Member, "id_number_encrypted", id_number),
)
