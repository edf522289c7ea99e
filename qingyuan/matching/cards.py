"""What a member sees of another: the match card. Verified facts, profile, shared interests;
never a real name, phone or ID number."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from qingyuan.matching.decisions import side_of
from qingyuan.matching.models import Profile, Proposal
from qingyuan.matching.profiles import city_names
from qingyuan.matching.questions import INTEREST_TAGS
from qingyuan.matching.reasons import reason_text
from qingyuan.verification.facts import VerifiedFacts, verified_facts


async def member_cards(
    user_ids: Iterable[int], viewer_id: int, day: date
) -> dict[int, dict[str, Any]]:
    """The cards of `user_ids` as `viewer_id` sees them, in two queries however many: the
    profiles (the viewer's among them, for shared interests) and the verified facts."""
    wanted = list(dict.fromkeys(user_ids))
    profiles = {p.user_id: p for p in await Profile.filter(user_id__in=[*wanted, viewer_id])}
    facts = await verified_facts(wanted)
    viewer = profiles.get(viewer_id)
    mine = set(viewer.interests) if viewer else set()
    return {
        user_id: _card(user_id, profiles.get(user_id), facts.get(user_id), mine, day)
        for user_id in wanted
    }


async def member_card(user_id: int, viewer_id: int, day: date) -> dict[str, Any]:
    return (await member_cards([user_id], viewer_id, day))[user_id]


def _card(
    user_id: int,
    profile: Profile | None,
    facts: VerifiedFacts | None,
    viewer_interests: set[str],
    day: date,
) -> dict[str, Any]:
    interests = profile.interests if profile else []
    shared = set(interests) & viewer_interests
    return {
        "id": user_id,
        "nickname": profile.nickname if profile else "",
        "age": facts.age(day) if facts else None,
        "gender": facts.gender if facts else None,
        "city": city_names().get(profile.city) if profile else None,
        "height_cm": profile.height_cm if profile else None,
        "bio": profile.bio if profile else "",
        "badges": {
            "verified": facts is not None,
            "degree": facts.degree if facts else None,
            "employment": facts.employment if facts else None,
        },
        "interests": [
            {"key": t, "label": str(INTEREST_TAGS[t]), "shared": t in shared}
            for t in interests
            if t in INTEREST_TAGS
        ],
        "photo_url": f"/photos/{profile.photo}" if profile and profile.photo else None,
    }


def _other(proposal: Proposal, viewer_id: int) -> int:
    return proposal.b_id if side_of(proposal, viewer_id) == "a" else proposal.a_id


async def proposals_json(
    proposals: Sequence[Proposal], viewer_id: int, day: date
) -> list[dict[str, Any]]:
    """Proposals as `viewer_id` sees them, the other members' cards fetched all at once."""
    cards = await member_cards([_other(p, viewer_id) for p in proposals], viewer_id, day)
    return [
        {
            "id": proposal.id,
            "date": proposal.day.isoformat(),
            "member": cards[_other(proposal, viewer_id)],
            "reasons": [{"code": r["code"], "text": reason_text(r)} for r in proposal.reasons],
            "expires_at": proposal.expires_at.isoformat(),
            "my_decision": getattr(proposal, f"{side_of(proposal, viewer_id)}_decision"),
        }
        for proposal in proposals
    ]
