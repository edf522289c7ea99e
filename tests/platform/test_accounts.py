"""Accounts: phone numbers, password policy, duplicates, argon2id rehash on login."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, profiles
from hypothesis import given
from hypothesis import strategies as st

from qingyuan.platform import accounts
from qingyuan.platform.errors import Conflict, ValidationFailed
from qingyuan.platform.models import Role, User
from tests.conftest import PASSWORD, add_user, login, run


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("(138) 1234 5678", "13812345678"),
    ],
)
def test_phone_numbers_are_normalised(raw, expected):
    assert accounts.normalise_phone(raw) == expected


@given(st.text(max_size=20))
def test_anything_else_is_a_field_error(raw):
    try:
        phone = accounts.normalise_phone(raw)
    except ValidationFailed as error:
        assert "phone" in error.fields
    else:
        assert len(phone) == 11 and phone[0] == "1" and phone.isdigit()


@pytest.mark.parametrize("password", ["short1", "allletters", "12345678901", ""])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationFailed):
        accounts.check_password_strength(password)


def test_duplicate_phone_is_a_conflict(client, make_user):
    make_user(phone="13812345678")
    with pytest.raises(Conflict):
        make_user(phone="138 1234 5678")


def test_password_hash_is_argon2id(client, make_user):
    assert make_user().password_hash.startswith("$argon2id$")


def test_outdated_hash_parameters_are_upgraded_at_login(make_settings, make_client):
    """With the production profile (the test stacks use the cheapest one), a login rehashes
    a hash made with weaker parameters, such as the demo's cheap seeding."""
    client = make_client(make_settings(QINGYUAN_PASSWORD_PROFILE="production"))
    user = add_user(client, "13812345670")
    weak = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)
    run(client, User.filter(id=user.id).update, password_hash=weak)
    login(client, user)
    upgraded = run(client, User.get, id=user.id).password_hash
    production = profiles.RFC_9106_LOW_MEMORY
    assert upgraded != weak
    assert f"m={production.memory_cost},t={production.time_cost}," in upgraded


def test_staff_roles_exist(client, make_user):
    assert {make_user(role).role for role in Role} == set(Role)
