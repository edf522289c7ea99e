"""Consultation slots moved to the `matchmakers` part: the activities' migration state (app
label `events`) lets go of them. State only: the table `events_consultation_slot` keeps its
name and rows (see platform/migration_state.py)."""

from tortoise import migrations

from qingyuan.platform.migration_state import DeleteModelState


class Migration(migrations.Migration):
    dependencies = [('events', '0001_activities_and_registrations')]

    initial = False

    operations = [
        DeleteModelState(name='ConsultationSlot'),
    ]
