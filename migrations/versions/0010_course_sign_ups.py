"""course sign-ups: residents sign up for a course themselves or at the desk (an enrolment
without a referral, with its own few details, a code and a secret link), a course's topic,
device and intake (hours to book it in), and outbox messages about an enrolment

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('device', sa.String(length=32), server_default='either', nullable=False))
        batch_op.add_column(sa.Column('needs_intake', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('intake_series_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_course_topic_id'), ['topic_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_course_topic_id_topic'), 'topic', ['topic_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_course_intake_series_id_consultation_hours'), 'consultation_hours', ['intake_series_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(op.f('ck_course_course_device'), "device IN ('own', 'library', 'either')")

    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_via', sa.String(length=32), server_default='referral', nullable=False))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('code', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('name', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('phone', sa.String(length=32), server_default='', nullable=False))
        batch_op.add_column(sa.Column('email', sa.String(length=255), server_default='', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='nl', nullable=False))
        batch_op.add_column(sa.Column('personal_data_erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('intake_booking_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('intake_to_plan', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column('referral_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_enrolment_code'), ['code'])
        batch_op.create_unique_constraint(batch_op.f('uq_enrolment_token_hash'), ['token_hash'])
        batch_op.create_foreign_key(batch_op.f('fk_enrolment_intake_booking_id_booking'), 'booking', ['intake_booking_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_enrolment_created_by_id_user_account'), 'user_account', ['created_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(op.f('ck_enrolment_enrolment_booked_via'), "booked_via IN ('resident', 'desk', 'referral')")
        batch_op.create_check_constraint(op.f('ck_enrolment_referral_or_code'), '(referral_id IS NULL) = (code IS NOT NULL)')
        batch_op.create_check_constraint(op.f('ck_enrolment_referral_details_in_referral'), "referral_id IS NULL OR (name = '' AND phone = '' AND email = '')")

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrolment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_enrolment_id_enrolment'), 'enrolment', ['enrolment_id'], ['id'], ondelete='SET NULL')


def downgrade():
    # Sign-ups have no referral to hold them: they cannot exist in the older schema.
    op.execute("DELETE FROM outbox_message WHERE enrolment_id IS NOT NULL")
    op.execute("DELETE FROM enrolment WHERE referral_id IS NULL")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_enrolment_id_enrolment'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_enrolment_id'))
        batch_op.drop_column('enrolment_id')

    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_enrolment_referral_details_in_referral'), type_='check')
        batch_op.drop_constraint(op.f('ck_enrolment_referral_or_code'), type_='check')
        batch_op.drop_constraint(op.f('ck_enrolment_enrolment_booked_via'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_enrolment_created_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_enrolment_intake_booking_id_booking'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_enrolment_token_hash'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_enrolment_code'), type_='unique')
        batch_op.alter_column('referral_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('intake_to_plan')
        batch_op.drop_column('intake_booking_id')
        batch_op.drop_column('personal_data_erased_at')
        batch_op.drop_column('language')
        batch_op.drop_column('email')
        batch_op.drop_column('phone')
        batch_op.drop_column('name')
        batch_op.drop_column('token_hash')
        batch_op.drop_column('code')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('booked_via')

    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_course_course_device'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_course_intake_series_id_consultation_hours'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_course_topic_id_topic'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_course_topic_id'))
        batch_op.drop_column('intake_series_id')
        batch_op.drop_column('needs_intake')
        batch_op.drop_column('device')
        batch_op.drop_column('topic_id')
