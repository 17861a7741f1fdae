"""course runs: cancelled sessions (with a reason and a version for calendars), attendance
per participant and session, and the course's change log

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_course_session_date', ['date'], unique=False)

    op.create_table('course_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_course_attendance_enrolment_id_enrolment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['marked_by_id'], ['user_account.id'], name=op.f('fk_course_attendance_marked_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['course_session.id'], name=op.f('fk_course_attendance_session_id_course_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_attendance')),
    sa.UniqueConstraint('enrolment_id', 'session_id', name=op.f('uq_course_attendance_enrolment_id_session_id'))
    )
    with op.batch_alter_table('course_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_attendance_session_id'), ['session_id'], unique=False)

    op.create_table('course_log_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_log_entry_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['course_session.id'], name=op.f('fk_course_log_entry_session_id_course_session'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_course_log_entry_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_log_entry'))
    )
    with op.batch_alter_table('course_log_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_log_entry_course_id'), ['course_id'], unique=False)


def downgrade():
    with op.batch_alter_table('course_log_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_log_entry_course_id'))
    op.drop_table('course_log_entry')
    with op.batch_alter_table('course_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_attendance_session_id'))
    op.drop_table('course_attendance')
    with op.batch_alter_table('course_session', schema=None) as batch_op:
        batch_op.drop_index('ix_course_session_date')
        batch_op.drop_column('version')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
