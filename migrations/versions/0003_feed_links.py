"""feed links: secret calendar-feed links of staff, and an index for feed freshness

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:53:08.346386

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feed_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.Enum('location', 'organisation', 'personal', name='feed_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('include_bookings', sa.Enum('none', 'counts', 'codes', name='feed_bookings', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(kind = 'location') = (location_id IS NOT NULL)", name=op.f('ck_feed_link_location_target')),
    sa.CheckConstraint("(kind = 'organisation') = (organisation_id IS NOT NULL)", name=op.f('ck_feed_link_organisation_target')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_feed_link_location_id_location'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_feed_link_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_feed_link_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_feed_link_token_hash'))
    )
    with op.batch_alter_table('feed_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_link_user_id'), ['user_id'], unique=False)

    op.create_table('feed_link_series',
    sa.Column('feed_link_id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['feed_link_id'], ['feed_link.id'], name=op.f('fk_feed_link_series_feed_link_id_feed_link'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['consultation_hours.id'], name=op.f('fk_feed_link_series_series_id_consultation_hours'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('feed_link_id', 'series_id', name=op.f('pk_feed_link_series'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_series_id_updated_at', ['series_id', 'updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_series_id_updated_at')

    op.drop_table('feed_link_series')
    with op.batch_alter_table('feed_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_link_user_id'))

    op.drop_table('feed_link')
