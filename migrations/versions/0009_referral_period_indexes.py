"""referral period indexes: the figures count a period's referrals per organisation

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index('ix_referral_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_referral_from_organisation_id_created_at', ['from_organisation_id', 'created_at'], unique=False)
        batch_op.create_index('ix_referral_to_organisation_id_created_at', ['to_organisation_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_to_organisation_id_created_at')
        batch_op.drop_index('ix_referral_from_organisation_id_created_at')
        batch_op.drop_index('ix_referral_created_at')
