"""referrals, courses, audit: referrals between organisations with consent records and the
receiver's notes, courses with sessions and enrolments, an audit log, referral profiles

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 23:13:58.786023

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('referral_profile',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('not_offered', sa.Text(), nullable=False),
    sa.Column('how_to_contact', sa.Text(), nullable=False),
    sa.Column('what_to_bring', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_referral_profile_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_referral_profile'))
    )
    op.create_table('course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('what_to_bring', sa.Text(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('open_for_referrals', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity BETWEEN 1 AND 50', name=op.f('ck_course_capacity_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_course_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_course_location_id_location'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_course_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course'))
    )
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('course_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_course_session_time_order')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_session_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_session')),
    sa.UniqueConstraint('course_id', 'date', 'start_time', name=op.f('uq_course_session_course_id_date_start_time'))
    )
    with op.batch_alter_table('course_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_session_course_id'), ['course_id'], unique=False)

    op.create_table('referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('warm', 'signpost', name='referral_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('received', 'in_contact', 'done', 'not_reached', 'declined', 'signposted', 'withdrawn', name='referral_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('from_organisation_id', sa.Integer(), nullable=False),
    sa.Column('to_organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('urgency', sa.Enum('normal', 'soon', 'urgent', name='referral_urgency', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('contact_method', sa.Enum('phone', 'text_message', 'email', name='contact_method', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('resident_name', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('request', sa.String(length=500), nullable=False),
    sa.Column('personal_data_erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status IN ('received', 'in_contact')) = (closed_at IS NULL)", name=op.f('ck_referral_closed_when_not_open')),
    sa.CheckConstraint("kind = 'warm' OR (resident_name = '' AND phone = '' AND email = '' AND request = '')", name=op.f('ck_referral_signpost_without_personal_data')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_referral_booking_id_booking'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_referral_course_id_course'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_referral_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_organisation_id'], ['organisation.id'], name=op.f('fk_referral_from_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_organisation_id'], ['organisation.id'], name=op.f('fk_referral_to_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_referral_topic_id_topic'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_referral_booking_id'))
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_from_organisation_id'), ['from_organisation_id'], unique=False)
        batch_op.create_index('ix_referral_to_organisation_id_status', ['to_organisation_id', 'status'], unique=False)

    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('view', 'create', 'status', 'note', 'withdraw', 'book', 'enrol', 'print', 'erase', name='audit_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_audit_entry_referral_id_referral'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_audit_entry_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_referral_id'), ['referral_id'], unique=False)

    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('participant', 'waiting', 'removed', name='enrolment_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'participant') = (seat IS NOT NULL)", name=op.f('ck_enrolment_seat_only_for_participants')),
    sa.CheckConstraint("(status = 'waiting') = (position IS NOT NULL)", name=op.f('ck_enrolment_position_only_when_waiting')),
    sa.CheckConstraint('seat IS NULL OR seat >= 1', name=op.f('ck_enrolment_seat_positive')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_enrolment_course_id_course'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_enrolment_referral_id_referral'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment')),
    sa.UniqueConstraint('course_id', 'position', name=op.f('uq_enrolment_course_id_position')),
    sa.UniqueConstraint('course_id', 'seat', name=op.f('uq_enrolment_course_id_seat')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_enrolment_referral_id'))
    )
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_course_id'), ['course_id'], unique=False)

    op.create_table('referral_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('receiving_organisation_id', sa.Integer(), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=True),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.Enum('spoken', 'on_screen', 'signed_form', name='consent_method', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('scope', sa.Enum('contact', 'appointment', 'course', name='consent_scope', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('script_language', sa.String(length=8), nullable=False),
    sa.Column('may_share', sa.Boolean(), nullable=False),
    sa.Column('may_receive', sa.Boolean(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('may_share AND may_receive', name=op.f('ck_referral_consent_both_yes')),
    sa.ForeignKeyConstraint(['asked_by_id'], ['user_account.id'], name=op.f('fk_referral_consent_asked_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['receiving_organisation_id'], ['organisation.id'], name=op.f('fk_referral_consent_receiving_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_referral_consent_referral_id_referral'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user_account.id'], name=op.f('fk_referral_consent_withdrawn_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_consent')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_referral_consent_referral_id'))
    )
    op.create_table('referral_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('received', 'in_contact', 'done', 'not_reached', 'declined', 'signposted', 'withdrawn', name='referral_note_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_referral_note_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_referral_note_referral_id_referral'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_note'))
    )
    with op.batch_alter_table('referral_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_note_referral_id'), ['referral_id'], unique=False)



def downgrade():
    with op.batch_alter_table('referral_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_note_referral_id'))

    op.drop_table('referral_note')
    op.drop_table('referral_consent')
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_course_id'))

    op.drop_table('enrolment')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_referral_id'))

    op.drop_table('audit_entry')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_to_organisation_id_status')
        batch_op.drop_index(batch_op.f('ix_referral_from_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_referral_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_referral_course_id'))
        batch_op.drop_index(batch_op.f('ix_referral_closed_at'))

    op.drop_table('referral')
    with op.batch_alter_table('course_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_session_course_id'))

    op.drop_table('course_session')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_organisation_id'))

    op.drop_table('course')
    op.drop_table('referral_profile')
