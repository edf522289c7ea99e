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
from qingyuan.platform import statements
from qingyuan.verification.facts import VerifiedFacts, verified_facts


async def _profiles(user_ids: list[int]) -> dict[int, Profile]:
    """Profiles by user id, in a precompiled statement (platform/statements.py): every card
    page reads them."""
    sql = (
        f'SELECT {statements.columns(Profile, "p")} FROM "matching_profile" p'  # noqa: S608
        f" WHERE p.user_id IN ({statements.placeholders(len(user_ids))})"
    )
    found = statements.models_from(Profile, await statements.rows(Profile, sql, user_ids))
    return {profile.user_id: profile for profile in found}


async def _cards_for(
    user_ids: Iterable[int], viewer_id: int, day: date
) -> tuple[dict[int, dict[str, Any]], bool]:
    """The cards, and whether the viewer has a profile (read in the same query)."""
    wanted = list(dict.fromkeys(user_ids))
    profiles = await _profiles([*wanted, viewer_id])
    facts = await verified_facts(wanted) if wanted else {}
    viewer = profiles.get(viewer_id)
    mine = set(viewer.interests) if viewer else set()
    cards = {
        user_id: _card(user_id, profiles.get(user_id), facts.get(user_id), mine, day)
        for user_id in wanted
    }
    return cards, viewer is not None


async def member_cards(
    user_ids: Iterable[int], viewer_id: int, day: date
) -> dict[int, dict[str, Any]]:
    """The cards of `user_ids` as `viewer_id` sees them, in two queries however many: the
    profiles (the viewer's among them, for shared interests) and the verified facts."""
    cards, _viewer_has_profile = await _cards_for(user_ids, viewer_id, day)
    return cards


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


async def proposals_of_day(user_id: int, day: date) -> list[Proposal]:
    """The member's proposals of `day` (today's match page and API, precompiled)."""
    sql = (
        f'SELECT {statements.columns(Proposal, "p")} FROM "matching_proposal" p'  # noqa: S608
        " WHERE (p.a_id = ? OR p.b_id = ?) AND p.day = ? ORDER BY p.id"
    )
    found = await statements.rows(Proposal, sql, [user_id, user_id, day])
    return statements.models_from(Proposal, found)


async def proposals_json(
    proposals: Sequence[Proposal], viewer_id: int, day: date
) -> list[dict[str, Any]]:
    """Proposals as `viewer_id` sees them, the other members' cards fetched all at once."""
    shown, _viewer_has_profile = await proposals_and_viewer(proposals, viewer_id, day)
    return shown


async def proposals_and_viewer(
    proposals: Sequence[Proposal], viewer_id: int, day: date
) -> tuple[list[dict[str, Any]], bool]:
    """`proposals_json`, and whether the viewer has a profile (the match page says so when
    not), which comes with the cards' profile query instead of a query of its own."""
    cards, viewer_has_profile = await _cards_for(
        [_other(p, viewer_id) for p in proposals], viewer_id, day
    )
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
    ], viewer_has_profile
