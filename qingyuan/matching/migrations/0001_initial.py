from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from qingyuan.connections.models import ConnectionSource
from qingyuan.matching.models import Decision
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('platform', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Answer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('question', fields.CharField(max_length=32)),
                ('answer', fields.SmallIntField()),
                ('acceptable', fields.SmallIntField()),
                ('importance', fields.SmallIntField()),
            ],
            options={'table': 'matching_answer', 'app': 'matching', 'unique_together': (('user', 'question'),), 'pk_attr': 'id', 'table_description': 'One questionnaire answer: own answer, acceptable answers (bitmask), importance 0–4.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Block',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('blocker', fields.ForeignKeyField('platform.User', source_field='blocker_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('blocked', fields.ForeignKeyField('platform.User', source_field='blocked_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_block', 'app': 'matching', 'unique_together': (('blocker', 'blocked'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MatchRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField()),
                ('partition', fields.CharField(max_length=16)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('stats', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_run', 'app': 'matching', 'unique_together': (('day', 'partition'),), 'pk_attr': 'id', 'table_description': 'One daily run of one partition: the lock of record and its figures.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Profile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name='profile', on_delete=OnDelete.CASCADE)),
                ('nickname', fields.CharField(max_length=24)),
                ('city', fields.IntField()),
                ('height_cm', fields.SmallIntField(null=True)),
                ('bio', fields.TextField(default='', unique=False)),
                ('interests', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('photo', fields.CharField(null=True, max_length=64)),
                ('seek_gender', fields.CharField(max_length=8)),
                ('age_min', fields.SmallIntField(default=20)),
                ('age_max', fields.SmallIntField(default=45)),
                ('cities', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('min_degree', fields.SmallIntField(default=0)),
                ('opted_in', fields.BooleanField(default=True)),
                ('personalised', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'matching_profile', 'app': 'matching', 'pk_attr': 'id', 'table_description': 'What a member says about themselves and what they look for.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Proposal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField(db_index=True)),
                ('a', fields.ForeignKeyField('platform.User', source_field='a_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('b', fields.ForeignKeyField('platform.User', source_field='b_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('score', fields.FloatField()),
                ('reasons', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('a_decision', fields.CharEnumField(null=True, description='LIKE: like\nPASS: pass', enum_type=Decision, max_length=8)),
                ('b_decision', fields.CharEnumField(null=True, description='LIKE: like\nPASS: pass', enum_type=Decision, max_length=8)),
                ('a_decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('b_decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_proposal', 'app': 'matching', 'unique_together': (('day', 'a', 'b'),), 'pk_attr': 'id', 'table_description': 'A pair proposed to both sides on one day, with both decisions as they come.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Connection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('a', fields.ForeignKeyField('platform.User', source_field='a_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('b', fields.ForeignKeyField('platform.User', source_field='b_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('source', fields.CharEnumField(description='MATCH: match\nINTRODUCTION: introduction\nACTIVITY: activity', enum_type=ConnectionSource, max_length=16)),
                ('proposal', fields.ForeignKeyField('matching.Proposal', source_field='proposal_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'matching_connection', 'app': 'matching', 'unique_together': (('a', 'b'),), 'pk_attr': 'id', 'table_description': 'Two members who may chat: a mutual like, an introduction or a "meet again" pick.'},
            bases=['Model'],
        ),
    ]
