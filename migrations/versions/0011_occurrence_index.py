"""occurrence index: the coming occurrences of every series and their slots with seats taken,
for one window of dates, so lists and free times are indexed queries (rebuilt from the
schedule by `flask index-occurrences --rebuild`; built on first use otherwise)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:42:42.679596

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('occurrence_index_window',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('first_date', sa.Date(), nullable=False),
    sa.Column('last_date', sa.Date(), nullable=False),
    sa.Column('rolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_occurrence_index_window_single_row')),
    sa.CheckConstraint('last_date >= first_date', name=op.f('ck_occurrence_index_window_date_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occurrence_index_window'))
    )
    op.create_table('indexed_occurrence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.Enum('regular', 'changed', 'extra', name='indexed_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', 'closed', name='indexed_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('bookable', sa.Boolean(), nullable=False),
    sa.Column('walk_in_starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('walk_in_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_indexed_occurrence_location_id_location'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['organisation.id'], name=op.f('fk_indexed_occurrence_provider_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['consultation_hours.id'], name=op.f('fk_indexed_occurrence_series_id_consultation_hours'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indexed_occurrence')),
    sa.UniqueConstraint('series_id', 'date', name=op.f('uq_indexed_occurrence_series_id_date'))
    )
    with op.batch_alter_table('indexed_occurrence', schema=None) as batch_op:
        batch_op.create_index('ix_indexed_occurrence_location_starts_at', ['location_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_indexed_occurrence_provider_starts_at', ['provider_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_indexed_occurrence_published_starts_at', ['published', 'starts_at'], unique=False)

    op.create_table('indexed_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seats', sa.SmallInteger(), nullable=False),
    sa.Column('seats_taken', sa.SmallInteger(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['series_id', 'date'], ['indexed_occurrence.series_id', 'indexed_occurrence.date'], name=op.f('fk_indexed_slot_series_id_indexed_occurrence'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indexed_slot')),
    sa.UniqueConstraint('series_id', 'starts_at', name=op.f('uq_indexed_slot_series_id_starts_at'))
    )
    with op.batch_alter_table('indexed_slot', schema=None) as batch_op:
        batch_op.create_index('ix_indexed_slot_series_id_date', ['series_id', 'date'], unique=False)
        batch_op.create_index('ix_indexed_slot_starts_at_series_id', ['starts_at', 'series_id'], unique=False)



def downgrade():
    with op.batch_alter_table('indexed_slot', schema=None) as batch_op:
        batch_op.drop_index('ix_indexed_slot_starts_at_series_id')
        batch_op.drop_index('ix_indexed_slot_series_id_date')

    op.drop_table('indexed_slot')
    with op.batch_alter_table('indexed_occurrence', schema=None) as batch_op:
        batch_op.drop_index('ix_indexed_occurrence_published_starts_at')
        batch_op.drop_index('ix_indexed_occurrence_provider_starts_at')
        batch_op.drop_index('ix_indexed_occurrence_location_starts_at')

    op.drop_table('indexed_occurrence')
    op.drop_table('occurrence_index_window')
