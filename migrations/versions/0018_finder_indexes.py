"""finder indexes: towns by name, series by topic (the hours list's place and topic filters,
the start page's town, the alternatives to a full series); the newest change of a location
and of an organisation (a calendar poll's 304)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 05:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.create_index('ix_location_city', ['city'], unique=False)
        batch_op.create_index('ix_location_updated_at', ['updated_at'], unique=False)
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_updated_at', ['updated_at'], unique=False)
    with op.batch_alter_table('series_topic', schema=None) as batch_op:
        batch_op.create_index('ix_series_topic_topic_id', ['topic_id'], unique=False)


def downgrade():
    with op.batch_alter_table('series_topic', schema=None) as batch_op:
        batch_op.drop_index('ix_series_topic_topic_id')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index('ix_organisation_updated_at')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index('ix_location_updated_at')
        batch_op.drop_index('ix_location_city')
