"""Connections, messages, blocks and reports, until now in matching's state (matching.0004), are
the `connections` part's. State only: their tables (matching_connection, matching_message,
matching_block, matching_report) exist with their rows and keep their names; see
platform/migration_state.py."""

from tortoise import migrations

from qingyuan.platform.migration_state import CreateModelState
from qingyuan.connections.models import ConnectionSource, ReportReason, ReportStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('matching', '0004_move_out_connections_and_matchmakers'), ('platform', '0002_notification')]

    initial = True

    operations = [
        CreateModelState(
            name='Block',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('blocker', fields.ForeignKeyField('platform.User', source_field='blocker_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('blocked', fields.ForeignKeyField('platform.User', source_field='blocked_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_block', 'app': 'connections', 'unique_together': (('blocker', 'blocked'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        CreateModelState(
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
            options={'table': 'matching_connection', 'app': 'connections', 'unique_together': (('a', 'b'),), 'pk_attr': 'id', 'table_description': 'Two members who may chat: a mutual like, an introduction or a "meet again" pick.'},
            bases=['Model'],
        ),
        CreateModelState(
            name='Message',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('connection', fields.ForeignKeyField('connections.Connection', source_field='connection_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('sender', fields.ForeignKeyField('platform.User', source_field='sender_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('recipient', fields.ForeignKeyField('platform.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('text', fields.TextField(unique=False)),
                ('risk', fields.CharField(null=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'matching_message', 'app': 'connections', 'indexes': [Index(fields=['connection_id', 'id']), Index(fields=['recipient_id', 'read_at'])], 'pk_attr': 'id', 'table_description': 'One chat message. The recipient is stored (a connection has two sides) so that unread'},
            bases=['Model'],
        ),
        CreateModelState(
            name='Report',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('reporter', fields.ForeignKeyField('platform.User', source_field='reporter_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('reported', fields.ForeignKeyField('platform.User', source_field='reported_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('connection', fields.ForeignKeyField('connections.Connection', source_field='connection_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('reason', fields.CharEnumField(description='SCAM: scam\nHARASSMENT: harassment\nFAKE_PROFILE: fake_profile\nINAPPROPRIATE: inappropriate\nOTHER: other', enum_type=ReportReason, max_length=16)),
                ('details', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=ReportStatus.OPEN, description='OPEN: open\nDISMISSED: dismissed\nWARNED: warned\nSUSPENDED: suspended', enum_type=ReportStatus, max_length=16)),
                ('decided_by', fields.ForeignKeyField('platform.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_report', 'app': 'connections', 'indexes': [Index(fields=['status', 'id']), Index(fields=['reported_id', 'status'])], 'pk_attr': 'id', 'table_description': "A member's report about another, waiting in the admins' moderation queue."},
            bases=['Model'],
        ),
    ]
