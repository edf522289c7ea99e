"""A realistic month of activities for `qingyuan demo`: the kinds a Youth League committee
runs, on weekends and weekday evenings in Hangzhou and Ningbo, gender quotas where people
meet, volunteer shifts with a gap or two, and some demo members signed
up. Idempotent: nothing is added when activities exist already."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from qingyuan.activities import activities, registrations, volunteers
from qingyuan.activities.models import Activity
from qingyuan.activities.schemas import ActivityBody, AddShift
from qingyuan.activities.settings import event_settings
from qingyuan.platform.errors import UserError
from qingyuan.platform.models import User
from qingyuan.platform.settings import PlatformSettings
from qingyuan.platform.validation import validate

# (day offset, start hour, hours, kind, title, place, city, capacity, quota per gender or None)
MONTH = (
    (
        0,
        19,
        2,
        "film_night",
        "周五电影夜：《你好，李焕英》",
        "杭州市拱墅区运河文化艺术中心",
        3301,
        30,
        15,
    ),
    (1, 9, 3, "frisbee", "周末飞盘交友", "杭州市西湖区黄龙体育中心", 3301, 24, 12),
    (1, 14, 3, "murder_mystery", "剧本杀·民国谜案", "杭州市上城区湖滨银泰 in77", 3301, 12, 6),
    (2, 9, 3, "citywalk", "Citywalk·西湖十景", "杭州市西湖区断桥", 3301, 30, 15),
    (5, 19, 2, "lecture", "婚恋知识讲座：如何经营亲密关系", "杭州市团市委青年之家", 3301, 80, None),
    (7, 19, 2, "love_school", "恋爱学堂·第一课：认识自己", "杭州市团市委青年之家", 3301, 40, None),
    (8, 9, 3, "frisbee", "飞盘新手营", "宁波市鄞州区体育馆", 3302, 24, 12),
    (8, 14, 3, "citywalk", "Citywalk·老外滩", "宁波市江北区老外滩", 3302, 20, 10),
    (9, 14, 3, "murder_mystery", "剧本杀·江南旧梦", "杭州市滨江区星光大道", 3301, 12, 6),
    (12, 19, 2, "film_night", "电影夜：《怦然心动》", "宁波市海曙区青年活动中心", 3302, 30, 15),
    (14, 19, 2, "love_school", "恋爱学堂·第二课：好好说话", "杭州市团市委青年之家", 3301, 40, None),
    (15, 9, 3, "frisbee", "周末飞盘交友", "杭州市西湖区黄龙体育中心", 3301, 24, 12),
    (16, 9, 4, "citywalk", "Citywalk·南宋御街", "杭州市上城区鼓楼", 3301, 30, 15),
    (19, 19, 2, "lecture", "讲座：婚姻法与彩礼", "宁波市团市委青年之家", 3302, 80, None),
    (22, 14, 3, "murder_mystery", "剧本杀·长安十二时辰", "杭州市上城区湖滨银泰 in77", 3301, 12, 6),
    (23, 9, 3, "frisbee", "飞盘友谊赛", "宁波市鄞州区体育馆", 3302, 24, 12),
    (28, 19, 2, "love_school", "恋爱学堂·第三课：见家长", "杭州市团市委青年之家", 3301, 40, None),
)


def _at(today: date, offset: int, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(today + timedelta(days=offset), time(hour), tzinfo=zone)


async def seed_month(
    settings: PlatformSettings, admin: User, matchmaker: User, members: list[User]
) -> int:
    """Create the month (once); returns how many activities were added."""
    if await Activity.exists():
        return 0
    async with in_transaction():  # one commit: hundreds of sign-ups, each its own savepoint
        return await _seed(settings, admin, matchmaker, members)


async def _seed(
    settings: PlatformSettings, admin: User, matchmaker: User, members: list[User]
) -> int:
    zone = ZoneInfo(settings.timezone)
    today = settings.local_today()
    created = []
    for offset, hour, hours, kind, title, place, city, capacity, quota in MONTH:
        starts = _at(today, offset, hour, zone)
        body = {
            "title": title,
            "kind": kind,
            "place": place,
            "city": city,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=hours)).isoformat(),
            "registration_closes_at": (starts - timedelta(hours=2)).isoformat(),
            "cancel_deadline": (starts - timedelta(hours=24)).isoformat(),
            "capacity": capacity,
            "quotas": {"male": quota, "female": quota} if quota else None,
            "quota_tolerance": 1 if quota else 0,
            "description": "共青团主办的公益活动，免费参加，名额有限。",
        }
        activity = await activities.create_activity(
            admin, validate(ActivityBody.configured(settings), body, strict=True)
        )
        created.append(activity)
        check_in = AddShift(
            role="签到", starts_at=starts - timedelta(minutes=30), ends_at=starts, needed=2
        )
        shift = await volunteers.add_shift(admin, activity.id, check_in)
        if offset % 2 == 0:  # every other activity still misses a volunteer
            await volunteers.assign(admin, shift.id, matchmaker.id)
    config = event_settings(settings)
    for index, member in enumerate(members):
        for activity in created[index % 3 :: 4][:3]:
            try:
                await registrations.sign_up(config, member, activity.id)
            except UserError:
                continue  # not verified yet, or registration already closed today
    return len(created)
