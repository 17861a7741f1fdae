"""desk visits and registrations: who is waiting at a location today (visits with ticket
numbers), registered contacts and their questions (categories only), outside bodies to refer
to, and topics that are for registering only (topic.public)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outside_body',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outside_body')),
    sa.UniqueConstraint('name', name=op.f('uq_outside_body_name'))
    )
    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('initials', sa.String(length=8), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'being_helped', 'finished', 'left', name='visit_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('helped_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('number >= 1', name=op.f('ck_visit_number_positive')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_visit_booking_id_booking'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['helped_by_id'], ['user_account.id'], name=op.f('fk_visit_helped_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_visit_location_id_location'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_visit_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['series_id'], ['consultation_hours.id'], name=op.f('fk_visit_series_id_consultation_hours'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_visit_topic_id_topic'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_visit_booking_id')),
    sa.UniqueConstraint('location_id', 'day', 'number', name=op.f('uq_visit_location_id_day_number'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_location_day_status', ['location_id', 'day', 'status'], unique=False)
        batch_op.create_index('ix_visit_organisation_day', ['organisation_id', 'day'], unique=False)

    op.create_table('registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('desk', 'appointment', 'phone', 'online', 'partner_location', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('duration', sa.Enum('under_10', '10_to_20', '20_to_30', 'over_30', name='duration', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_registration_booking_id_booking'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_registration_location_id_location'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_registration_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['registered_by_id'], ['user_account.id'], name=op.f('fk_registration_registered_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_registration_visit_id_visit'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_registration_booking_id')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_registration_visit_id'))
    )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index('ix_registration_location_day', ['location_id', 'day'], unique=False)
        batch_op.create_index('ix_registration_organisation_day', ['organisation_id', 'day'], unique=False)

    op.create_table('registered_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('how_helped', sa.Enum('information', 'shown_how', 'step_by_step', 'referred', name='how_helped', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('referred_organisation_id', sa.Integer(), nullable=True),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('outside_body_id', sa.Integer(), nullable=True),
    sa.Column('course_recommended', sa.Boolean(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.CheckConstraint("(how_helped = 'referred') = (referred_organisation_id IS NOT NULL OR outside_body_id IS NOT NULL)", name=op.f('ck_registered_question_referred_has_receiver')),
    sa.CheckConstraint('referral_id IS NULL OR referred_organisation_id IS NOT NULL', name=op.f('ck_registered_question_referral_to_organisation')),
    sa.CheckConstraint('referred_organisation_id IS NULL OR outside_body_id IS NULL', name=op.f('ck_registered_question_one_receiver')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_registered_question_location_id_location'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_registered_question_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['outside_body_id'], ['outside_body.id'], name=op.f('fk_registered_question_outside_body_id_outside_body'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_registered_question_referral_id_referral'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referred_organisation_id'], ['organisation.id'], name=op.f('fk_registered_question_referred_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_registered_question_registration_id_registration'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_registered_question_topic_id_topic'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registered_question'))
    )
    with op.batch_alter_table('registered_question', schema=None) as batch_op:
        batch_op.create_index('ix_registered_question_location_day', ['location_id', 'day'], unique=False)
        batch_op.create_index('ix_registered_question_organisation_day', ['organisation_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_registered_question_registration_id'), ['registration_id'], unique=False)

    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.drop_column('public')

    with op.batch_alter_table('registered_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registered_question_registration_id'))
        batch_op.drop_index('ix_registered_question_organisation_day')
        batch_op.drop_index('ix_registered_question_location_day')

    op.drop_table('registered_question')
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_organisation_day')
        batch_op.drop_index('ix_registration_location_day')

    op.drop_table('registration')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_organisation_day')
        batch_op.drop_index('ix_visit_location_day_status')

    op.drop_table('visit')
    op.drop_table('outside_body')
