"""`flask db upgrade` builds the whole schema, and the models and migrations agree."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from models import Base


def test_upgrade_builds_an_empty_database_matching_the_models(app, db):
    db.drop_all()
    upgrade(directory=app.root_path + "/migrations")
    with db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert set(Base.metadata.tables) <= tables
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], diff
