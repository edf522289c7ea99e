"""A small verified population with profiles, built through the public services."""

from __future__ import annotations

import random
from datetime import date

from starlette.testclient import TestClient

from qingyuan.matching import profiles
from qingyuan.matching.questions import INTEREST_TAGS
from qingyuan.platform.models import User
from qingyuan.verification.departments import generate_personas, load_registry, write_registry
from qingyuan.verification.idnumber import parse_id_number
from qingyuan.verification.pipeline import check_member
from qingyuan.verification.registration import Application, create_member
from tests.conftest import run

PASSWORD = "member-2026"


async def _member(services, person, phone: str, rng: random.Random) -> User:
    kernel = services.kernel
    identity = parse_id_number(person.id_number)
    user, member = await create_member(
        kernel.cipher, Application(phone, PASSWORD, person.name, identity), "2026-11"
    )
    await check_member(services.verification, member.id)
    await profiles.save_profile(
        user,
        {
            "nickname": f"会员{phone[-3:]}",
            "city": rng.choice([3301, 3301, 3302]),
            "interests": rng.sample(sorted(INTEREST_TAGS), 4),
            "seek_gender": "female" if identity.gender == "male" else "male",
            "age_min": 20,
            "age_max": rng.choice([30, 40, 60]),
            "cities": [],
            "min_degree": 0,
        },
    )
    return user


def build_population(client: TestClient, size: int, seed: int = 7) -> list[User]:
    """`size` verified members with profiles; their citizens join the mock registry first."""
    services = client.app.state.services
    kernel = services.kernel
    people = generate_personas(size, seed, today=date(2026, 11, 27))
    path = kernel.settings.data_dir / "mock-registry.jsonl"
    write_registry([*load_registry(), *people], path)
    rng = random.Random(seed)

    async def create() -> list[User]:
        return [
            await _member(services, person, f"1370000{i:04d}", rng)
            for i, person in enumerate(people)
        ]

    return run(client, create)
