"""embed origins: websites that may show the public lists in a frame

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'embed_origin',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('origin', sa.String(length=255), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_embed_origin')),
        sa.UniqueConstraint('origin', name=op.f('uq_embed_origin_origin')),
    )


def downgrade():
    op.drop_table('embed_origin')
