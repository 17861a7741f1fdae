"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 22:14:43.171349

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('library', 'municipality', 'partner', name='organisation_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('referral_info', sa.Text(), nullable=False),
    sa.Column('website', sa.String(length=255), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name'))
    )
    op.create_table('topic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name_nl', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('icon', sa.String(length=40), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic')),
    sa.UniqueConstraint('slug', name=op.f('uq_topic_slug'))
    )
    op.create_table('location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('street', sa.String(length=160), nullable=False),
    sa.Column('postcode', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('accessibility', sa.Text(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_location_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_location_organisation_id_name'))
    )
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('coordinator', 'org_admin', 'staff', 'volunteer', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_account_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('consultation_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('what_to_bring', sa.Text(), nullable=False),
    sa.Column('mode', sa.Enum('walk_in', 'appointment', 'mixed', name='mode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recurrence', sa.Enum('weekly', 'monthly', name='recurrence', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('weekdays', sa.String(length=20), nullable=False),
    sa.Column('interval_weeks', sa.Integer(), nullable=False),
    sa.Column('month_weeks', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('walk_in_start', sa.Time(), nullable=True),
    sa.Column('walk_in_end', sa.Time(), nullable=True),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('seats_per_slot', sa.Integer(), nullable=False),
    sa.Column('min_notice_hours', sa.Integer(), nullable=False),
    sa.Column('book_ahead_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'paused', name='series_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('book_ahead_days >= 1', name=op.f('ck_consultation_hours_ahead_positive')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_consultation_hours_date_order')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_consultation_hours_time_order')),
    sa.CheckConstraint('interval_weeks BETWEEN 1 AND 52', name=op.f('ck_consultation_hours_interval_range')),
    sa.CheckConstraint('min_notice_hours >= 0', name=op.f('ck_consultation_hours_notice_positive')),
    sa.CheckConstraint('seats_per_slot BETWEEN 1 AND 50', name=op.f('ck_consultation_hours_seats_range')),
    sa.CheckConstraint('slot_minutes BETWEEN 5 AND 480', name=op.f('ck_consultation_hours_slot_minutes_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_consultation_hours_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_consultation_hours_location_id_location'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['provider_id'], ['organisation.id'], name=op.f('fk_consultation_hours_provider_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_hours'))
    )
    with op.batch_alter_table('consultation_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_hours_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_hours_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_consultation_hours_status_dates', ['status', 'start_date', 'end_date'], unique=False)

    op.create_table('location_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_location_closure_date_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_location_closure_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_location_closure_location_id_location'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location_closure'))
    )
    with op.batch_alter_table('location_closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_closure_location_id'), ['location_id'], unique=False)

    op.create_table('series_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('cancelled', 'changed', 'extra', name='exception_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind = 'cancelled' OR (start_time IS NOT NULL AND end_time IS NOT NULL AND end_time > start_time)", name=op.f('ck_series_exception_times_present')),
    sa.ForeignKeyConstraint(['series_id'], ['consultation_hours.id'], name=op.f('fk_series_exception_series_id_consultation_hours'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series_exception')),
    sa.UniqueConstraint('series_id', 'date', name=op.f('uq_series_exception_series_id_date'))
    )
    with op.batch_alter_table('series_exception', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_exception_series_id'), ['series_id'], unique=False)

    op.create_table('series_topic',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['consultation_hours.id'], name=op.f('fk_series_topic_series_id_consultation_hours'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_series_topic_topic_id_topic'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('series_id', 'topic_id', name=op.f('pk_series_topic'))
    )


def downgrade():
    op.drop_table('series_topic')
    with op.batch_alter_table('series_exception', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_exception_series_id'))

    op.drop_table('series_exception')
    with op.batch_alter_table('location_closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_closure_location_id'))

    op.drop_table('location_closure')
    with op.batch_alter_table('consultation_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_consultation_hours_status_dates')
        batch_op.drop_index(batch_op.f('ix_consultation_hours_provider_id'))
        batch_op.drop_index(batch_op.f('ix_consultation_hours_location_id'))

    op.drop_table('consultation_hours')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_organisation_id'))

    op.drop_table('user_account')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_organisation_id'))

    op.drop_table('location')
    op.drop_table('topic')
    op.drop_table('organisation')
