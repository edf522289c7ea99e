"""Why two members were matched (PIPL art. 24: automated decisions must be explainable).

Reasons are stored as codes with parameters when the proposal is made, and put into words in
the reader's language when shown. They name only what both members can see on the card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qingyuan.matching.questionnaire import compare
from qingyuan.matching.questions import INTEREST_TAGS
from qingyuan.platform.i18n import gettext as _

if TYPE_CHECKING:  # the population loader pulls in the matcher; pages need none of it
    from qingyuan.matching.population import Population

MIN_SHARED_QUESTIONS = 3


def reasons_for(population: Population, a: int, b: int) -> list[dict[str, Any]]:
    profile_a, profile_b = population.profiles[a], population.profiles[b]
    reasons: list[dict[str, Any]] = [{"code": "preferences"}]
    shared = sorted(set(profile_a.interests) & set(profile_b.interests))
    if shared:
        reasons.append({"code": "shared_interests", "tags": shared})
    if profile_a.city == profile_b.city:
        reasons.append({"code": "same_city"})
    comparison = compare(population.members.questionnaire, np.array([a]), np.array([b]))
    if comparison.shared[0] >= MIN_SHARED_QUESTIONS and not np.isnan(comparison.match[0]):
        reasons.append({"code": "values", "percent": round(float(comparison.match[0]) * 100)})
    return reasons


def reason_text(reason: dict[str, Any]) -> str:
    code = reason.get("code")
    if code == "shared_interests":
        # The list separator is language-specific too: "、" in Chinese, ", " in English.
        tags = _(", ").join(str(INTEREST_TAGS[t]) for t in reason["tags"] if t in INTEREST_TAGS)
        return _("You share interests: %(tags)s.", tags=tags)
    if code == "same_city":
        return _("You live in the same city.")
    if code == "values":
        return _(
            "Your values questionnaire answers match %(percent)d%%.", percent=reason["percent"]
        )
    return _("You each fit what the other is looking for.")
