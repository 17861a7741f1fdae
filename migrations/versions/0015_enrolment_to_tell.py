"""enrolment to tell: a resident who moved up from a course's waiting list without an e-mail
address is marked until staff have told them; the audit log records staff views of a course
sign-up (an entry is a referral's or an enrolment's)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_tell', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrolment_id', sa.Integer(), nullable=True))
        batch_op.alter_column('referral_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f('ix_audit_entry_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_entry_enrolment_id_enrolment'), 'enrolment', ['enrolment_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint(op.f('ck_audit_entry_referral_or_enrolment'), '(referral_id IS NULL) != (enrolment_id IS NULL)')


def downgrade():
    op.execute("DELETE FROM audit_entry WHERE enrolment_id IS NOT NULL")
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entry_referral_or_enrolment'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_audit_entry_enrolment_id_enrolment'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_entry_enrolment_id'))
        batch_op.alter_column('referral_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('enrolment_id')

    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_column('to_tell')
