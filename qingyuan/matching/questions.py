"""The values questionnaire (OkCupid-style): each member answers, says which answers they
accept from a partner, and how much the question matters (0 irrelevant … 4 mandatory)."""

from __future__ import annotations

from dataclasses import dataclass

from qingyuan.platform.i18n import gettext_lazy as _


@dataclass(frozen=True)
class Question:
    key: str
    text: object  # lazily translated
    options: tuple[object, ...]


QUESTIONS: tuple[Question, ...] = (
    Question("children", _("Do you want children?"), (_("Yes"), _("No"), _("Not sure yet"))),
    Question("smoking", _("Do you smoke?"), (_("Never"), _("Sometimes"), _("Often"))),
    Question("drinking", _("Do you drink?"), (_("Never"), _("Socially"), _("Often"))),
    Question(
        "parents",
        _("After marriage, would you live with your parents?"),
        (_("Yes"), _("No"), _("It depends")),
    ),
    Question(
        "relocate",
        _("Would you move to another city for your partner?"),
        (_("Yes"), _("No"), _("Maybe")),
    ),
    Question(
        "weekend",
        _("Your ideal weekend?"),
        (_("Outdoors"), _("At home"), _("With friends"), _("Learning something")),
    ),
    Question(
        "money",
        _("How should a couple manage money?"),
        (_("All together"), _("Separately"), _("Partly together")),
    ),
    Question(
        "pets",
        _("How do you feel about pets?"),
        (_("Love them"), _("Fine either way"), _("Rather not")),
    ),
    Question(
        "housework",
        _("How should housework be shared?"),
        (_("Equally"), _("Whoever has time"), _("By what each is good at")),
    ),
    Question(
        "wedding",
        _("What kind of wedding would you like?"),
        (_("Simple"), _("A traditional banquet"), _("A travel wedding")),
    ),
    Question(
        "priorities",
        _("Right now, what comes first?"),
        (_("Career"), _("Family"), _("A balance of both")),
    ),
    Question(
        "spending",
        _("Are you a saver or a spender?"),
        (_("Saver"), _("Spender"), _("Somewhere in between")),
    ),
)
QUESTION_KEYS = tuple(question.key for question in QUESTIONS)
IMPORTANCE_LABELS = (_("Irrelevant"), _("A little"), _("Somewhat"), _("Very"), _("Mandatory"))

INTEREST_TAGS: dict[str, object] = {
    "frisbee": _("Frisbee"),
    "hiking": _("Hiking"),
    "running": _("Running"),
    "badminton": _("Badminton"),
    "swimming": _("Swimming"),
    "cycling": _("Cycling"),
    "reading": _("Reading"),
    "films": _("Films"),
    "music": _("Music"),
    "photography": _("Photography"),
    "cooking": _("Cooking"),
    "travel": _("Travel"),
    "board_games": _("Board games"),
    "murder_mystery": _("Murder mystery (剧本杀)"),
    "citywalk": _("Citywalk"),
    "tea": _("Tea"),
    "coffee": _("Coffee"),
    "pets": _("Pets"),
    "gaming": _("Gaming"),
    "volunteering": _("Volunteering"),
    "calligraphy": _("Calligraphy"),
    "dance": _("Dance"),
    "fitness": _("Fitness"),
    "theatre": _("Theatre"),
}

# Verified degrees in order, as a profile's `min_degree` (0–5) counts them.
DEGREE_LEVEL = {
    None: 0,
    "none": 1,
    "high_school": 1,
    "associate": 2,
    "bachelor": 3,
    "master": 4,
    "doctorate": 5,
}
