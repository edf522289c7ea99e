from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from qingyuan.verification.models import AppealStatus, CheckStatus, VerificationStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('platform', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Member',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name='member', on_delete=OnDelete.CASCADE)),
                ('real_name_encrypted', fields.CharField(max_length=255)),
                ('id_number_encrypted', fields.CharField(max_length=255)),
                ('id_number_index', fields.CharField(unique=True, max_length=64)),
                ('birth_date', fields.DateField()),
                ('gender', fields.CharField(max_length=8)),
                ('status', fields.CharEnumField(default=VerificationStatus.PENDING, description='PENDING: pending\nVERIFIED: verified\nREJECTED: rejected', enum_type=VerificationStatus, max_length=16)),
                ('reasons', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('degree', fields.CharField(null=True, max_length=16)),
                ('employment', fields.CharField(null=True, max_length=16)),
                ('hukou_region', fields.CharField(null=True, max_length=6)),
                ('verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('recheck_due_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('appeal_status', fields.CharEnumField(default=AppealStatus.NONE, description='NONE: none\nOPEN: open\nAPPROVED: approved\nUPHELD: upheld', enum_type=AppealStatus, max_length=16)),
                ('appeal_text', fields.TextField(default='', unique=False)),
                ('appeal_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'verification_member', 'app': 'verification', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Consent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('verification.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='consents', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharField(max_length=48)),
                ('policy_version', fields.CharField(max_length=32)),
                ('granted_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'verification_consent', 'app': 'verification', 'pk_attr': 'id', 'table_description': 'A separate consent (PIPL art. 29), recorded with the policy version it was given for.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DepartmentCheck',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('verification.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='checks', on_delete=OnDelete.CASCADE)),
                ('department', fields.CharField(max_length=32)),
                ('status', fields.CharEnumField(default=CheckStatus.PENDING, description='CONFIRMED: confirmed\nNEGATIVE: negative\nPENDING: pending\nERROR: error', enum_type=CheckStatus, max_length=16)),
                ('reason', fields.CharField(default='', max_length=32)),
                ('claims', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('attestation', fields.TextField(default='', unique=False)),
                ('attempts', fields.IntField(default=0)),
                ('checked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'verification_department_check', 'app': 'verification', 'unique_together': (('member', 'department'),), 'pk_attr': 'id', 'table_description': 'The latest answer of one department about one member (claims: enums and booleans).'},
            bases=['Model'],
        ),
    ]
