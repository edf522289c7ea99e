"""Connections, messages, blocks and reports moved to the `connections` part, introductions,
care assignments and consultation notes to `matchmakers`: matching's migration state lets go
of them. State only: the tables keep their names and rows (see platform/migration_state.py);
connections.0001_from_matching and matchmakers.0001_from_matching_and_events take them up."""

from tortoise import migrations

from qingyuan.platform.migration_state import DeleteModelState


class Migration(migrations.Migration):
    dependencies = [('matching', '0003_encrypt_messages_and_notes')]

    initial = False

    # Models that refer to Connection go before it (the state refuses a dangling reference).
    operations = [
        DeleteModelState(name='Assignment'),
        DeleteModelState(name='Block'),
        DeleteModelState(name='ConsultationNote'),
        DeleteModelState(name='Introduction'),
        DeleteModelState(name='Message'),
        DeleteModelState(name='Report'),
        DeleteModelState(name='Connection'),
    ]
