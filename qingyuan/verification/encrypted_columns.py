"""What verification keeps encrypted: the member's real name and ID number (bound to their
purpose only, as they always were), and the sealed verdicts: the reasons a member was rejected,
what an approved appeal covered, the appeal's text and each department's answer, each bound
to its member (and department) by `models.sealed_purpose`. Every encrypted column of
verification is declared here, so that `qingyuan keys rotate` re-encrypts it too."""

from __future__ import annotations

from typing import Any

from qingyuan.platform.encryption import EncryptedColumn
from qingyuan.verification.models import DepartmentCheck, Member, sealed_purpose
from qingyuan.verification.registration import ID_PURPOSE, NAME_PURPOSE


def real_name(row: Any) -> str:
    return NAME_PURPOSE


def id_number(row: Any) -> str:
    return ID_PURPOSE


def _member_column(column: str) -> EncryptedColumn:
    def purpose(row: Any) -> str:
        return sealed_purpose("member", row.id, column)

    return EncryptedColumn(Member, f"{column}_encrypted", purpose)


def department_answer(row: Any) -> str:
    return sealed_purpose("check", row.member_id, row.department)


COLUMNS = (
    EncryptedColumn(Member, "real_name_encrypted", real_name),
    EncryptedColumn(Member, "id_number_encrypted", id_number),
    *(_member_column(column) for column in ("reasons", "appeal_covers", "appeal_text")),
    EncryptedColumn(DepartmentCheck, "answer_encrypted", department_answer),
)
