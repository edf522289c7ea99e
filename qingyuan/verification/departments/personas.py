"""Deterministic clean citizens for the demo and load tests.

The bundled ``personas.jsonl`` stays small and documented (``PERSONAS.md``); the demo needs
hundreds of verifiable members, which :func:`generate_personas` makes from a seed.  Generated
people pass every gate (unmarried, divorced or widowed; no record; not a debtor) and are 22–38
years old on ``today``.  Their sequence numbers are 500–999 and the bundled personas' are below
500, so the two sets never share an ID number and can be written into one registry.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from qingyuan.verification.departments.registry import Person
from qingyuan.verification.idnumber import Gender, make_id_number

# GB/T 2260 districts, mostly in Zhejiang where the platform runs.
_REGIONS = (
    "330102",  # 杭州 上城区
    "330105",  # 杭州 拱墅区
    "330106",  # 杭州 西湖区
    "330108",  # 杭州 滨江区
    "330110",  # 杭州 余杭区
    "330203",  # 宁波 海曙区
    "330212",  # 宁波 鄞州区
    "330302",  # 温州 鹿城区
    "330402",  # 嘉兴 南湖区
    "330602",  # 绍兴 越城区
    "330702",  # 金华 婺城区
    "331002",  # 台州 椒江区
    "310101",  # 上海 黄浦区
    "310115",  # 上海 浦东新区
    "110105",  # 北京 朝阳区
    "110108",  # 北京 海淀区
    "440305",  # 深圳 南山区
    "440106",  # 广州 天河区
    "320102",  # 南京 玄武区
    "510107",  # 成都 武侯区
)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许"
    "韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈"
)
_GIVEN: dict[Gender, str] = {
    "male": "伟强磊军洋勇杰涛明超浩宇轩然博文斌志远航鹏飞俊凯晨阳辰睿泽峰",
    "female": "芳娜敏静丽艳娟霞婷雪琳颖慧佳欣怡悦晓雯琪萱妍婉瑶璐思雨蕾清",
}
_MARITAL = {"unmarried": 90, "divorced": 9, "widowed": 1}
_DEGREES = {"high_school": 10, "associate": 25, "bachelor": 45, "master": 15, "doctorate": 3}
_EMPLOYMENT = {"employed": 72, "self_employed": 13, "student": 8, "unemployed": 7}
_MIN_AGE, _MAX_AGE = 22, 38


def generate_personas(n: int, seed: int, *, today: date | None = None) -> list[Person]:
    """``n`` distinct clean people; the same ``n``, ``seed`` and ``today`` give the same list."""
    rng = random.Random(seed)
    today = today or date.today()
    people: dict[str, Person] = {}
    while len(people) < n:
        person = _persona(rng, today)
        people.setdefault(person.id_number, person)
    return list(people.values())


def _persona(rng: random.Random, today: date) -> Person:
    gender: Gender = rng.choice(("male", "female"))
    region = rng.choice(_REGIONS)
    sequence = rng.randrange(250, 500) * 2 + (1 if gender == "male" else 0)
    return Person(
        id_number=make_id_number(region, _birth_date(rng, today), sequence),
        name=_name(rng, gender),
        marital_status=_weighted(rng, _MARITAL),
        degree=_weighted(rng, _DEGREES),
        employment=_weighted(rng, _EMPLOYMENT),
        criminal_record=False,
        dishonest_debtor=False,
        hukou_region=region if rng.random() < 0.8 else rng.choice(_REGIONS),
    )


def _birth_date(rng: random.Random, today: date) -> date:
    """A birth date at which the person is between the age bounds on ``today``."""
    age = rng.randint(_MIN_AGE, _MAX_AGE)
    # The latest birth date for that age is this day ``age`` years ago (28 Feb for 29 Feb);
    # anything up to 364 days earlier still gives the same age.
    day = 28 if (today.month, today.day) == (2, 29) else today.day
    latest = date(today.year - age, today.month, day)
    return latest - timedelta(days=rng.randrange(365))


def _name(rng: random.Random, gender: Gender) -> str:
    given = rng.choice(_GIVEN[gender])
    if rng.random() < 0.7:
        given += rng.choice(_GIVEN[gender])
    return rng.choice(_SURNAMES) + given


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]
