"""The migrations build the schema the models describe, and take it down again."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import dispose_engines
from app.extensions import db


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_migrations_downgrade_to_base_and_upgrade_from_empty(app):
    """Downgrading to base leaves no tables; upgrading from empty creates every model's table."""
    db.session.remove()
    downgrade(revision="base")
    dispose_engines()
    assert _tables() == set()

    upgrade()
    dispose_engines()
    assert _tables() == set(db.metadata.tables)


def test_models_and_migrations_agree(app):
    """Autogenerate finds nothing to add: every model change has its migration."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []
