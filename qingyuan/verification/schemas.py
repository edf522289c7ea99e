"""Request and response models of verification: registration, appeal, verification status."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from qingyuan.platform.i18n import gettext_lazy
from qingyuan.platform.validation import Schema, Text

Required = Annotated[Text, Field(min_length=1)]


class Consents(Schema):
    # Nothing else belongs in here; said in the document, so its values need no other limits.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    sensitive_personal_information: Literal[True]
    matching: Literal[True]


class Registration(Schema):
    """A real-name registration. The shape is checked here; what JSON Schema cannot say (a
    mainland mobile number with or without +86 and separators, password strength, a name in
    Chinese as on the ID card, the ID number's region, date and checksum, the age window) is
    checked by `registration.validate`, all fields at once."""

    beyond_schema: ClassVar = frozenset({"phone", "password", "real_name", "id_number"})
    field_messages: ClassVar = {
        "consents": gettext_lazy("Both consents are needed before we can verify you.")
    }

    phone: Required
    password: Required
    real_name: Required
    id_number: Required
    consents: Consents


class AppealIn(Schema):
    """The appeal's length (10 to 1000 characters once trimmed) is the service's to check,
    after whether this member may appeal at all (a 409 comes before a 422)."""

    beyond_schema: ClassVar = frozenset({"text"})

    text: Text = ""


class DepartmentState(Schema):
    status: Literal["confirmed", "negative", "pending", "error"]
    name: str | None = None
    label: str | None = None
    checked_at: str | None = None


class ReasonOut(Schema):
    code: str
    message: str


class VerificationOut(Schema):
    status: Literal["pending", "verified", "rejected"]
    label: str | None = None
    departments: dict[str, DepartmentState]
    reasons: list[ReasonOut]
    badges: dict[str, Any] | None = None
    appeal: dict[str, Any] | None = None


class Registered(Schema):
    member_id: int
    csrf_token: str
    verification: VerificationOut
