"""messages: one outbox for mail and SMS (channel, kind, a key for messages that exist once),
calls ticked off; when a booking got its current time

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.Enum('mail', 'sms', 'call', name='message_channel', native_enum=False, create_constraint=True, length=32), server_default='mail', nullable=False))
        batch_op.add_column(sa.Column('kind', sa.String(length=32), server_default='', nullable=False))
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('called_by_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_outbox_message_dedupe_key', ['dedupe_key'])
        batch_op.create_index('ix_outbox_message_created_at', ['created_at'], unique=False)
        batch_op.create_foreign_key('fk_outbox_message_called_by_id_user_account', 'user_account', ['called_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_chosen_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE booking SET time_chosen_at = created_at')


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('time_chosen_at')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_message_called_by_id_user_account', type_='foreignkey')
        batch_op.drop_index('ix_outbox_message_created_at')
        batch_op.drop_constraint('uq_outbox_message_dedupe_key', type_='unique')
        batch_op.drop_constraint('message_channel', type_='check')
        batch_op.drop_column('called_by_id')
        batch_op.drop_column('dedupe_key')
        batch_op.drop_column('kind')
        batch_op.drop_column('channel')
