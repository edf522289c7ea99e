from tortoise import migrations
from tortoise.migrations import operations as ops
from qingyuan.matchmakers.models import IntroductionStatus
from qingyuan.connections.models import ReportReason, ReportStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('matching', '0001_initial'), ('platform', '0002_notification')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Assignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('matchmaker', fields.ForeignKeyField('platform.User', source_field='matchmaker_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('platform.User', source_field='member_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_assignment', 'app': 'matching', 'unique_together': (('matchmaker', 'member'),), 'pk_attr': 'id', 'table_description': "A member in a matchmaker's care (set by an admin)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsultationNote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('matchmaker', fields.ForeignKeyField('platform.User', source_field='matchmaker_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('platform.User', source_field='member_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('text', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_consultation_note', 'app': 'matching', 'pk_attr': 'id', 'table_description': 'What a matchmaker wrote after a consultation with an assigned member.'},
            bases=['Model'],
        ),
        ops.CreateModel(
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
                ('connection', fields.ForeignKeyField('matching.Connection', source_field='connection_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'matching_introduction', 'app': 'matching', 'pk_attr': 'id', 'table_description': "A matchmaker's proposal of a pair, with a note. Both accepting opens a connection."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('connection', fields.ForeignKeyField('matching.Connection', source_field='connection_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('sender', fields.ForeignKeyField('platform.User', source_field='sender_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('recipient', fields.ForeignKeyField('platform.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('text', fields.TextField(unique=False)),
                ('risk', fields.CharField(null=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'matching_message', 'app': 'matching', 'indexes': [Index(fields=['connection_id', 'id']), Index(fields=['recipient_id', 'read_at'])], 'pk_attr': 'id', 'table_description': 'One chat message. The recipient is stored (a connection has two sides) so that unread'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('reporter', fields.ForeignKeyField('platform.User', source_field='reporter_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('reported', fields.ForeignKeyField('platform.User', source_field='reported_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('connection', fields.ForeignKeyField('matching.Connection', source_field='connection_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('reason', fields.CharEnumField(description='SCAM: scam\nHARASSMENT: harassment\nFAKE_PROFILE: fake_profile\nINAPPROPRIATE: inappropriate\nOTHER: other', enum_type=ReportReason, max_length=16)),
                ('details', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=ReportStatus.OPEN, description='OPEN: open\nDISMISSED: dismissed\nWARNED: warned\nSUSPENDED: suspended', enum_type=ReportStatus, max_length=16)),
                ('decided_by', fields.ForeignKeyField('platform.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'matching_report', 'app': 'matching', 'indexes': [Index(fields=['status', 'id']), Index(fields=['reported_id', 'status'])], 'pk_attr': 'id', 'table_description': "A member's report about another, waiting in the admins' moderation queue."},
            bases=['Model'],
        ),
    ]
