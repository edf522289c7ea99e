"""Request and response models of offline activities: the one description of their API.

The members' list filters, sign-up, ticket, feedback and picks; the admins' activity form
(the page and `POST/PUT /api/v1/admin/activities` share `ActivityBody`), cancellation,
export, attendance, volunteer shifts; the volunteers' check-in.

What a JSON Schema can say is said here (lengths, ranges, kinds, a title that is not only
blanks). What it cannot — an order between two times, quotas that fit the capacity, seats
already taken, a member who really attended — the services check, and the models name
those fields in `beyond_schema`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Field

from qingyuan.platform.i18n import gettext_lazy
from qingyuan.platform.local_time import LocalTime, Zoned
from qingyuan.platform.validation import NOT_BLANK, Count, Id, Schema, Text, Timestamp

MAX_CAPACITY = 2000

Title = Annotated[str, Field(min_length=1, max_length=80, pattern=NOT_BLANK)]
Place = Annotated[str, Field(min_length=1, max_length=120, pattern=NOT_BLANK)]
Reason = Annotated[str, Field(min_length=1, pattern=NOT_BLANK)]
Seats = Annotated[int, Field(ge=0, le=MAX_CAPACITY)]
CityCode = Annotated[int, Field(ge=1000, le=9999, description="A city's code, as in /cities")]

Kind = Literal[
    "frisbee", "murder_mystery", "film_night", "citywalk", "lecture", "love_school", "consultation"
]
"""`ActivityKind`'s values (a test keeps the two equal)."""

RegistrationState = Literal["confirmed", "offered", "waitlisted", "cancelled", "expired"]

_KIND = gettext_lazy("Choose a kind of activity.")
_CITY = gettext_lazy("Choose a city.")


class ActivitiesQuery(Schema):
    """The list's filters: `/activities` and `GET /api/v1/activities`."""

    field_messages: ClassVar = {
        "kind": _KIND,
        "city": _CITY,
        "date": gettext_lazy("Enter a valid date."),
    }
    kind: Kind | None = None
    city: CityCode | None = None
    date: dt.date | None = Field(default=None, description="YYYY-MM-DD, local day")


class Quotas(Schema):
    """Seats per gender; both or none (`quotas: null`)."""

    model_config = ConfigDict(extra="forbid")
    male: Seats
    female: Seats


class ActivityBody(Zoned):
    """An activity as an admin creates or edits it (the page form is mapped onto it)."""

    beyond_schema: ClassVar = frozenset(
        {"ends_at", "registration_closes_at", "cancel_deadline", "registration_opens_at"}
        | {"quotas", "capacity"}  # quotas within the capacity; seats already taken
    )
    field_messages: ClassVar = {
        "title": gettext_lazy("Give a title of 1 to 80 characters."),
        "kind": _KIND,
        "place": gettext_lazy("Give the place (up to 120 characters)."),
        "city": _CITY,
        "capacity": gettext_lazy(
            "Capacity must be a whole number from 1 to %(max)d.", max=MAX_CAPACITY
        ),
        "quota_tolerance": gettext_lazy("Tolerance must be a whole number, 0 or more."),
        "quotas": gettext_lazy("Give seats for both men and women, or no quotas."),
        "description": gettext_lazy("The description may have up to 4000 characters."),
    }
    title: Title
    kind: Kind
    place: Place
    city: CityCode | None = None
    description: Annotated[Text, Field(max_length=4000)] = ""
    starts_at: LocalTime
    ends_at: LocalTime
    registration_opens_at: LocalTime | None = Field(
        default=None, description="Empty: registration is open from now on"
    )
    registration_closes_at: LocalTime
    cancel_deadline: LocalTime
    capacity: Annotated[int, Field(ge=1, le=MAX_CAPACITY)]
    quota_tolerance: Seats = Field(
        default=0, description="How many seats one gender may take beyond its quota"
    )
    quotas: Quotas | None = Field(default=None, description="Optional: no quotas when absent")
    requires_verification: bool = True


class CancelActivity(Schema):
    field_messages: ClassVar = {"reason": gettext_lazy("Say why the activity is cancelled.")}
    reason: Reason = Field(description="Kept up to 500 characters")


class Export(Schema):
    field_messages: ClassVar = {"reason": gettext_lazy("Say why you export the list.")}
    reason: Reason = Field(description="Audit-logged, up to 200 characters")


class SetAttendance(Schema):
    field_messages: ClassVar = {"attendance": gettext_lazy("Choose attended, no-show or excused.")}
    attendance: Literal["attended", "no_show", "excused"]
    reason: Text = Field(default="", description="Audit-logged, up to 200 characters")


class AttendanceSet(Schema):
    attendance: Literal["attended", "no_show", "excused"]


class AddShift(Zoned):
    """A volunteer role and its shift: the admin page's form and the API."""

    beyond_schema: ClassVar = frozenset({"ends_at"})  # after the start
    field_messages: ClassVar = {
        "role": gettext_lazy("Name the role (up to 40 characters)."),
        "needed": gettext_lazy("Between 1 and 100 people."),
    }
    role: Annotated[str, Field(min_length=1, max_length=40, pattern=NOT_BLANK)]
    starts_at: LocalTime
    ends_at: LocalTime
    needed: Annotated[int, Field(ge=1, le=100)] = 1


_VOLUNTEER = gettext_lazy("Choose an active volunteer matchmaker.")


class Assign(Schema):
    beyond_schema: ClassVar = frozenset({"volunteer_id"})  # an active matchmaker
    field_messages: ClassVar = {"volunteer_id": _VOLUNTEER}
    volunteer_id: Id


class AssignToShift(Assign):
    """The admin page's form: the shift is chosen in the form, not in the path."""

    field_messages: ClassVar = {"volunteer_id": _VOLUNTEER, "shift_id": _VOLUNTEER}
    shift_id: Id


class CheckInBody(Schema):
    """A scanned QR token or a typed ticket code; volunteers may name the activity."""

    field_messages: ClassVar = {
        "code": gettext_lazy("Scan the QR code or type the ticket code."),
        "activity_id": gettext_lazy("Choose an activity."),
    }
    code: Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK)]
    activity_id: Id | None = None


class LeaveFeedback(Schema):
    field_messages: ClassVar = {
        "rating": gettext_lazy("Choose 1 to 5 stars."),
        "comment": gettext_lazy("Up to 500 characters, please."),
    }
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[Text, Field(max_length=500)] = ""


class Pick(Schema):
    beyond_schema: ClassVar = frozenset({"member_id"})  # someone who attended with me
    field_messages: ClassVar = {"member_id": gettext_lazy("Choose someone who attended.")}
    member_id: Id


# Responses


class GenderCounts(Schema):
    male: Count
    female: Count


class Counts(Schema):
    confirmed: GenderCounts = Field(description="Offered seats included: they hold a seat")
    waitlisted: GenderCounts


class ActivityOut(Schema):
    id: int
    title: str
    kind: Kind
    kind_label: str = Field(description="In the reader's language")
    description: str
    place: str
    city: int | None
    starts_at: Timestamp
    ends_at: Timestamp
    capacity: int
    quotas: GenderCounts | None
    quota_tolerance: int
    registration_opens_at: Timestamp | None
    registration_closes_at: Timestamp
    cancel_deadline: Timestamp
    status: Literal["scheduled", "cancelled"]


class Activities(Schema):
    activities: list[ActivityOut]


class MyRegistration(Schema):
    status: RegistrationState
    waitlist_position: int | None
    offer_expires_at: Timestamp | None


class ActivityDetail(ActivityOut):
    counts: Counts
    my_registration: MyRegistration | None


class Cancelled(Schema):
    status: Literal["cancelled"]


class Ticket(Schema):
    code: str = Field(examples=["ABCD-EFGH"])
    qr: str = Field(description="The QR code's token (no personal data)")
    checked_in: bool


class MyActivity(MyRegistration):
    activity: ActivityOut


class MyActivities(Schema):
    registrations: list[MyActivity]


class Rated(Schema):
    rating: int


class Attendee(Schema):
    id: int
    nickname: str
    picked: bool


class Attendees(Schema):
    attendees: list[Attendee]


class Picked(Schema):
    mutual: bool
    connection_id: int | None


class CalendarFeed(Schema):
    url: str = Field(description="Secret: whoever has it sees my activities")


class Status(Schema):
    status: str


class Created(Schema):
    id: int


class CheckedIn(Schema):
    status: Literal["checked_in"]
    registration_id: int
    activity_id: int
    activity_title: str
    gender: str


class StaffedShift(Schema):
    id: int
    role: str
    starts_at: Timestamp
    ends_at: Timestamp
    needed: int
    volunteer_ids: list[int]
    gap: int = Field(description="How many volunteers are still missing")


class Staffing(Schema):
    shifts: list[StaffedShift]


class Figures(Schema):
    signups_by_day: dict[str, int] = Field(description="Local day (YYYY-MM-DD) → sign-ups")
    signups: int
    confirmed: int
    waitlisted: int
    attended: int
    no_show: int
    excused: int
    pairs: int = Field(description="Mutual meet-again picks")
    conversion_rate: float | None = Field(description="Share of attendees in at least one pair")
