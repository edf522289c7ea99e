"""Introductions, care assignments (matching's `Assignment`, now `CareAssignment`) and consultation
notes, until now in matching's state, and consultation slots, until now in the activities' (app
`events`), are the `matchmakers` part's. State only: their tables keep their names and rows;
see platform/migration_state.py."""

from tortoise import migrations

from qingyuan.platform.migration_state import CreateModelState
from qingyuan.matchmakers.models import IntroductionStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('connections', '0001_from_matching'), ('events', '0002_move_out_consultation_slots'), ('matching', '0004_move_out_connections_and_matchmakers'), ('platform', '0002_notification')]

    initial = True

    operations = [
        CreateModelState(
            name='CareAssignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('matchmaker', fields.ForeignKeyField('platform.User', source_field='matchmaker_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('platform.User', source_field='member_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_assignment', 'app': 'matchmakers', 'unique_together': (('matchmaker', 'member'),), 'pk_attr': 'id', 'table_description': "A member in a matchmaker's care (set by an admin)."},
            bases=['Model'],
        ),
        CreateModelState(
            name='ConsultationNote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('matchmaker', fields.ForeignKeyField('platform.User', source_field='matchmaker_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('platform.User', source_field='member_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('text', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_consultation_note', 'app': 'matchmakers', 'pk_attr': 'id', 'table_description': 'What a matchmaker wrote after a consultation with an assigned member.'},
            bases=['Model'],
        ),
        CreateModelState(
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
            options={'table': 'events_consultation_slot', 'app': 'matchmakers', 'pk_attr': 'id', 'table_description': "A matchmaker's 1:1 consultation slot, booked by at most one member."},
            bases=['Model'],
        ),
        CreateModelState(
            name='Introduction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('matchmaker', fields.ForeignKeyField('platform.User', source_field='matchmaker_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('a', fields.ForeignKeyField('platform.User', source_field='a_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('b', fields.ForeignKeyField('platform.User', source_field='b_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('note', fields.TextField(unique=False)),
                ('a_accepted', fields.BooleanField(null=True)),
                ('b_accepted', fields.BooleanField(null=True)),
                ('status', fields.CharEnumField(default=IntroductionStatus.PENDING, description='PENDING: pending\nACCEPTED: accepted\nDECLINED: declined', enum_type=IntroductionStatus, max_length=16)),
                ('connection', fields.ForeignKeyField('connections.Connection', source_field='connection_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'matching_introduction', 'app': 'matchmakers', 'pk_attr': 'id', 'table_description': "A matchmaker's proposal of a pair, with a note. Both accepting opens a connection."},
            bases=['Model'],
        ),
    ]
