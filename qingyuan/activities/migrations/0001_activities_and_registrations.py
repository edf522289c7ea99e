from tortoise import migrations
from tortoise.migrations import operations as ops
from qingyuan.activities.models import ActivityKind, ActivityStatus, Attendance, RegistrationStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('platform', '0002_notification')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Activity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=80)),
                ('kind', fields.CharEnumField(description='FRISBEE: frisbee\nMURDER_MYSTERY: murder_mystery\nFILM_NIGHT: film_night\nCITYWALK: citywalk\nLECTURE: lecture\nLOVE_SCHOOL: love_school\nCONSULTATION: consultation', enum_type=ActivityKind, max_length=16)),
                ('description', fields.TextField(default='', unique=False)),
                ('place', fields.CharField(max_length=120)),
                ('city', fields.IntField(null=True)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('capacity', fields.IntField()),
                ('quota_tolerance', fields.SmallIntField(default=0)),
                ('registration_opens_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('registration_closes_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('cancel_deadline', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('requires_verification', fields.BooleanField(default=True)),
                ('status', fields.CharEnumField(default=ActivityStatus.SCHEDULED, description='SCHEDULED: scheduled\nCANCELLED: cancelled', enum_type=ActivityStatus, max_length=12)),
                ('lock_counter', fields.IntField(default=0)),
                ('created_by', fields.ForeignKeyField('platform.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'events_activity', 'app': 'events', 'pk_attr': 'id', 'table_description': 'One offline activity. Every seat change bumps `lock_counter` (see locking.py).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CalendarFeed',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'events_calendar_feed', 'app': 'events', 'pk_attr': 'id', 'table_description': "A member's secret calendar URL: only the token's hash is kept, revoking deletes it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsultationSlot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('matchmaker', fields.ForeignKeyField('platform.User', source_field='matchmaker_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('place', fields.CharField(max_length=120)),
                ('booked_by', fields.ForeignKeyField('platform.User', source_field='booked_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('booked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'events_consultation_slot', 'app': 'events', 'pk_attr': 'id', 'table_description': "A matchmaker's 1:1 consultation slot, booked by at most one member."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MeetAgainPick',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('activity', fields.ForeignKeyField('events.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('chooser', fields.ForeignKeyField('platform.User', source_field='chooser_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('chosen', fields.ForeignKeyField('platform.User', source_field='chosen_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'events_meet_again', 'app': 'events', 'unique_together': (('activity', 'chooser', 'chosen'),), 'pk_attr': 'id', 'table_description': "One attendee's wish to meet another again. A mutual pair opens a connection."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Quota',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('activity', fields.ForeignKeyField('events.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='quotas', on_delete=OnDelete.CASCADE)),
                ('gender', fields.CharField(max_length=8)),
                ('seats', fields.IntField()),
            ],
            options={'table': 'events_quota', 'app': 'events', 'unique_together': (('activity', 'gender'),), 'pk_attr': 'id', 'table_description': 'Seats reserved for one gender. No rows means no gender quotas.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Registration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('activity', fields.ForeignKeyField('events.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='registrations', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('active_member', fields.IntField(null=True)),
                ('gender', fields.CharField(max_length=8)),
                ('status', fields.CharEnumField(description='CONFIRMED: confirmed\nOFFERED: offered\nWAITLISTED: waitlisted\nCANCELLED: cancelled\nEXPIRED: expired', enum_type=RegistrationStatus, max_length=12)),
                ('waitlist_seq', fields.IntField(null=True)),
                ('offer_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('code', fields.CharField(unique=True, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('checked_in_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('checked_in_by', fields.ForeignKeyField('platform.User', source_field='checked_in_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('attendance', fields.CharEnumField(null=True, description='ATTENDED: attended\nNO_SHOW: no_show\nEXCUSED: excused', enum_type=Attendance, max_length=10)),
                ('reminded_24h_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reminded_2h_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'events_registration', 'app': 'events', 'unique_together': (('activity', 'active_member'),), 'pk_attr': 'id', 'table_description': "A member's place at an activity: seat, offer or waitlist, then attendance."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Feedback',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('registration', fields.OneToOneField('events.Registration', source_field='registration_id', db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.CASCADE)),
                ('rating', fields.SmallIntField()),
                ('comment', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'events_feedback', 'app': 'events', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Shift',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('activity', fields.ForeignKeyField('events.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='shifts', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(max_length=40)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('needed', fields.SmallIntField(default=1)),
            ],
            options={'table': 'events_shift', 'app': 'events', 'pk_attr': 'id', 'table_description': 'A volunteer role during part of an activity, and how many people it needs.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ShiftAssignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('shift', fields.ForeignKeyField('events.Shift', source_field='shift_id', db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
                ('volunteer', fields.ForeignKeyField('platform.User', source_field='volunteer_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'events_shift_assignment', 'app': 'events', 'unique_together': (('shift', 'volunteer'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
