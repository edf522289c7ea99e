"""The daily run against the database: hard filters, K per day, idempotency, exclusions."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from qingyuan.connections.models import Block
from qingyuan.matching.daily import run_day
from qingyuan.matching.decisions import decide
from qingyuan.matching.models import MatchRun, Proposal
from qingyuan.matching.population import load_population
from qingyuan.platform.models import Notification
from qingyuan.verification.facts import verified_facts
from tests.conftest import run
from tests.connections.chat_support import suspend
from tests.matching.daily_support import build_population

DAY = date(2026, 11, 27)


@pytest.fixture
def members(client):
    return build_population(client, 24)


def run_match(client, day=DAY):
    return run(client, run_day, client.app.state.kernel, day)


def proposals(client, day=DAY):
    return run(client, Proposal.filter(day=day).prefetch_related("a", "b").all)


def test_run_reports_its_figures_and_respects_the_hard_filters(client, members):
    figures = run_match(client)
    assert set(figures) == {
        "date",
        "eligible",
        "proposed_pairs",
        "members_without_proposal",
        "mean_score",
        "seconds",
    }
    assert figures["eligible"] == 24 and figures["proposed_pairs"] >= 6
    facts = run(client, verified_facts)
    population = run(client, load_population, DAY)
    profile = {p.user_id: p for p in population.profiles}
    for proposal in proposals(client):
        for me, other in ((proposal.a_id, proposal.b_id), (proposal.b_id, proposal.a_id)):
            assert profile[me].seek_gender == facts[other].gender
            assert profile[me].age_min <= facts[other].age(DAY) <= profile[me].age_max
    counts = Counter(uid for p in proposals(client) for uid in (p.a_id, p.b_id))
    assert max(counts.values()) == 1  # K = 1
    assert run(client, Notification.filter(kind="match.proposed").count) == len(counts)


def test_a_second_run_of_the_same_day_adds_nothing(client, members):
    first = run_match(client)
    second = run_match(client)
    assert second["proposed_pairs"] == 0
    assert second["eligible"] == first["eligible"]  # the day's figures, from MatchRun
    assert second["members_without_proposal"] == first["members_without_proposal"]
    assert len(proposals(client)) == first["proposed_pairs"]
    assert run(client, MatchRun.filter(day=DAY, finished_at__not_isnull=True).count) >= 1


def test_next_days_never_repeat_a_pair_and_skip_blocked_and_passed_pairs(client, members):
    run_match(client)
    first = proposals(client)
    passed, blocked = first[0], first[1]
    run(client, decide, passed.a_id, passed.id, "pass")
    run(client, Block.create, blocker_id=blocked.b_id, blocked_id=blocked.a_id)
    pairs = {(p.a_id, p.b_id) for p in first}
    for offset in range(1, 4):
        day = date.fromordinal(DAY.toordinal() + offset)
        run_match(client, day)
        for proposal in proposals(client, day):
            assert (proposal.a_id, proposal.b_id) not in pairs  # 90-day memory
            pairs.add((proposal.a_id, proposal.b_id))


def test_members_who_opt_out_or_withdraw_consent_are_not_proposed(client, members):
    from qingyuan.matching.models import Profile
    from qingyuan.verification.models import Member
    from qingyuan.verification.review import do_withdraw_consent

    run(client, Profile.filter(user_id=members[0].id).update, opted_in=False)
    member = run(client, Member.get, user_id=members[1].id)
    run(client, do_withdraw_consent, client.app.state.kernel.cipher, member, actor=None)
    run_match(client)
    proposed = {uid for p in proposals(client) for uid in (p.a_id, p.b_id)}
    assert members[0].id not in proposed and members[1].id not in proposed


def move_to_guangdong(client, members) -> set[int]:
    """Every other member moves to 广州 (province 44), so the day has two partitions."""
    from qingyuan.matching.models import Profile

    moved = {user.id for user in members[::2]}
    run(client, Profile.filter(user_id__in=moved).update, city=4401)
    return moved


def test_a_run_killed_after_some_provinces_were_stored_is_finished_by_a_rerun(client, members):
    moved = move_to_guangdong(client, members)
    first = run_match(client)
    guangdong = {uid for p in proposals(client) for uid in (p.a_id, p.b_id)} & moved
    assert guangdong  # province 44 proposed pairs of its own
    # the run that died after storing Zhejiang (33): Guangdong's partition was never written
    run(client, Proposal.filter(a_id__in=moved).delete)
    run(client, MatchRun.filter(day=DAY, partition="44").delete)

    rerun = run_match(client)

    assert rerun["proposed_pairs"] > 0
    assert {uid for p in proposals(client) for uid in (p.a_id, p.b_id)} & moved == guangdong
    assert rerun["eligible"] == first["eligible"]


def leave_lock_of_a_killed_run(client, day=DAY, partition="33") -> None:
    """What a run killed with SIGKILL leaves: its lock, never released, living its TTL."""
    kernel = client.app.state.kernel
    run(client, kernel.redis.set, f"match-run:{day.isoformat()}:{partition}", "killed", px=1500)


def test_a_lock_left_by_a_killed_run_expires_and_the_rerun_finishes_the_day(
    make_settings, make_client
):
    client = make_client(make_settings(QINGYUAN_MATCH_LOCK_SECONDS="1.5"))
    build_population(client, 24)
    leave_lock_of_a_killed_run(client)

    figures = run_match(client)

    assert figures["proposed_pairs"] >= 6
    assert run(client, MatchRun.filter(day=DAY, finished_at__isnull=True).count) == 0


def test_a_daily_job_that_meets_another_holders_lock_waits_instead_of_failing(
    make_settings, make_client
):
    from qingyuan.platform.jobs import kick
    from qingyuan.platform.models import AuditEntry
    from tests.platform.test_jobs import wait_for

    settings = make_settings(QINGYUAN_MATCH_LOCK_SECONDS="1.5")
    client = make_client(settings, run_worker=True)
    build_population(client, 24)
    today = settings.local_today()
    leave_lock_of_a_killed_run(client, today)

    run(client, kick, client.app.state.kernel.broker, "matching.daily_run")

    assert wait_for(lambda: run(client, Proposal.filter(day=today).count) > 0, timeout=30)
    assert run(client, AuditEntry.filter(action="job.failed").count) == 0


def test_a_suspended_member_is_not_proposed(client, members):
    suspend(client, members[0])
    run_match(client)
    proposed = {uid for p in proposals(client) for uid in (p.a_id, p.b_id)}
    assert members[0].id not in proposed
    assert members[0].id not in run(client, verified_facts)
