"""Sign-up, cancellation and the waitlist through the API, on both stacks."""

from __future__ import annotations

from tests.activities.conftest import by_gender


def sign_up(client, activity_id, person):
    return client.post(f"/api/v1/activities/{activity_id}/registration", headers=person.headers)


def cancel(client, activity_id, person):
    return client.delete(f"/api/v1/activities/{activity_id}/registration", headers=person.headers)


def test_quota_fills_then_waitlist_per_gender(client, members, create_activity):
    people = members(12)
    men, women = by_gender(people, "male"), by_gender(people, "female")
    assert len(men) >= 3 and len(women) >= 3
    activity = create_activity(capacity=4, quotas={"male": 2, "female": 2})
    answers = [sign_up(client, activity, p) for p in men[:3] + women[:3]]
    assert [a.status_code for a in answers] == [201] * 6
    assert [a.json()["status"] for a in answers] == ["confirmed", "confirmed", "waitlisted"] * 2
    assert answers[2].json()["waitlist_position"] == 1
    assert answers[5].json()["waitlist_position"] == 1
    again = sign_up(client, activity, men[0])
    assert again.status_code == 200 and again.json()["status"] == "confirmed"
    detail = client.get(f"/api/v1/activities/{activity}", headers=men[0].headers).json()
    assert detail["counts"] == {
        "confirmed": {"male": 2, "female": 2},
        "waitlisted": {"male": 1, "female": 1},
    }
    assert detail["my_registration"]["status"] == "confirmed"


def test_cancel_twice_is_harmless_and_the_seat_goes_to_the_same_gender(
    client, members, create_activity
):
    people = members(14)
    men, women = by_gender(people, "male"), by_gender(people, "female")
    activity = create_activity(capacity=2, quotas={"male": 1, "female": 1})
    sign_up(client, activity, men[0])
    sign_up(client, activity, women[0])
    assert sign_up(client, activity, women[1]).json()["status"] == "waitlisted"
    assert sign_up(client, activity, men[1]).json()["status"] == "waitlisted"
    for _ in range(2):
        answer = cancel(client, activity, men[0])
        assert answer.status_code == 200 and answer.json() == {"status": "cancelled"}
    # women[1] waited longer, but the freed seat is a man's: it is offered to men[1]
    offered = client.get(f"/api/v1/activities/{activity}", headers=men[1].headers).json()
    assert offered["my_registration"]["status"] == "offered"
    still = client.get(f"/api/v1/activities/{activity}", headers=women[1].headers).json()
    assert still["my_registration"] == {
        "status": "waitlisted",
        "waitlist_position": 1,
        "offer_expires_at": None,
    }
    taken = sign_up(client, activity, men[1])
    assert taken.status_code == 200 and taken.json()["status"] == "confirmed"
    assert client.get(f"/api/v1/activities/{activity}", headers=men[1].headers).json()["counts"][
        "confirmed"
    ] == {"male": 1, "female": 1}
