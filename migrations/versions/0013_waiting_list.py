"""waiting list: residents waiting for a free time, and the seats offered to them

A seat offered from the waiting list is held by a booking row in the new state 'offered'.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OLD_BOOKING_STATUSES = ('booked', 'cancelled', 'attended', 'no_show')
NEW_BOOKING_STATUSES = OLD_BOOKING_STATUSES + ('offered',)
ON_THE_LIST = "status IN ('waiting', 'offered')"
OPEN = "status = 'open'"



def _set_booking_statuses(old, new):
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booking_booking_status'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_booking_booking_status'), sa.column('status').in_(new)
        )


def upgrade():
    _set_booking_statuses(OLD_BOOKING_STATUSES, NEW_BOOKING_STATUSES)
    op.create_table('waiting_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'offered', 'booked', 'left', 'removed', 'passed', 'lapsed', name='waiting_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('contact_key', sa.String(length=255), nullable=False),
    sa.Column('personal_data_erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_waiting_entry_booking_id_booking'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['consultation_hours.id'], name=op.f('fk_waiting_entry_series_id_consultation_hours'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waiting_entry')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_waiting_entry_token_hash'))
    )
    with op.batch_alter_table('waiting_entry', schema=None) as batch_op:
        batch_op.create_index('ix_waiting_entry_queue', ['series_id', 'status', 'joined_at', 'id'], unique=False)
        batch_op.create_index('uq_waiting_entry_contact_on_list', ['series_id', 'contact_key'], unique=True, postgresql_where=sa.text(ON_THE_LIST), sqlite_where=sa.text(ON_THE_LIST))

    op.create_table('seat_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slot_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('open', 'taken', 'passed', 'withdrawn', name='offer_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_seat_offer_booking_id_booking'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['waiting_entry.id'], name=op.f('fk_seat_offer_entry_id_waiting_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offered_by_id'], ['user_account.id'], name=op.f('fk_seat_offer_offered_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['consultation_hours.id'], name=op.f('fk_seat_offer_series_id_consultation_hours'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_offer')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_seat_offer_token_hash'))
    )
    with op.batch_alter_table('seat_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_offer_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_offer_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_offer_series_id'), ['series_id'], unique=False)
        batch_op.create_index('ix_seat_offer_due', ['status', 'expires_at'], unique=False)
        batch_op.create_index('uq_seat_offer_open_per_entry', ['entry_id'], unique=True, postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.create_index('uq_seat_offer_open_per_seat', ['booking_id'], unique=True, postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    op.drop_table('seat_offer')
    op.drop_table('waiting_entry')
    # Held seats are no appointments: they go with the waiting list.
    op.execute("DELETE FROM booking WHERE status = 'offered'")
    _set_booking_statuses(NEW_BOOKING_STATUSES, OLD_BOOKING_STATUSES)
