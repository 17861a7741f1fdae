"""topic names: a topic's name in every language other than Dutch in its own table (the
English name carried over from the topic row)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


# Both directions change the topic table in place (ALTER TABLE, also on SQLite): rebuilding it,
# as a batch operation on SQLite does, would delete through the foreign keys on it (its
# names, its series).


def upgrade():
    op.create_table('topic_name',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_topic_name_topic_id_topic'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', 'language', name=op.f('pk_topic_name'))
    )
    op.execute(
        "INSERT INTO topic_name (topic_id, language, name) "
        "SELECT id, 'en', name_en FROM topic WHERE name_en <> ''"
    )
    op.drop_column('topic', 'name_en')


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    # SQLite adds a required column in place only with a default.
    op.add_column('topic', sa.Column(
        'name_en', sa.String(length=80), nullable=not sqlite,
        server_default='' if sqlite else None,
    ))
    # The English name where there is one, the Dutch one otherwise (the column is required).
    op.execute(
        "UPDATE topic SET name_en = COALESCE("
        "(SELECT name FROM topic_name WHERE topic_name.topic_id = topic.id "
        "AND topic_name.language = 'en'), name_nl)"
    )
    if not sqlite:
        op.alter_column('topic', 'name_en', existing_type=sa.String(length=80), nullable=False)
    op.drop_table('topic_name')
