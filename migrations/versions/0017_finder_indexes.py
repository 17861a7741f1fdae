"""finder indexes: towns by name, series by topic (the hours list's place and topic filters,
the start page's town, the alternatives to a full series)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 05:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.create_index('ix_location_city', ['city'], unique=False)
    with op.batch_alter_table('series_topic', schema=None) as batch_op:
        batch_op.create_index('ix_series_topic_topic_id', ['topic_id'], unique=False)


def downgrade():
    with op.batch_alter_table('series_topic', schema=None) as batch_op:
        batch_op.drop_index('ix_series_topic_topic_id')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index('ix_location_city')
