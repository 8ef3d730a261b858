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


def test_the_flows_booked_before_maker_checker_stay_in_the_figures(app, db):
    """Migration a7d3c9e51b24 puts cash flows under maker-checker: the flows already in the book
    were booked under the old rule and are carried over approved, not turned into drafts that
    would drop out of every figure at the upgrade."""
    from sqlalchemy import text

    db.drop_all()
    with db.engine.begin() as conn:  # a database left at the revision before
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(directory=app.root_path + "/migrations", revision="b4e2f9a7c610")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO funds (code, name, kind, size_cny, vintage_year, currency, settings) "
                          "VALUES ('F', '基金', 'innovation_fund', 100000000, 2024, 'CNY', '{}')"))
        conn.execute(text("INSERT INTO companies (code, name, credit_code, sector, region_code) "
                          "VALUES ('C1', '企业', '913302067JH4BXKF5Y', 'robotics', '330206')"))
        conn.execute(text("INSERT INTO investments (id, fund_code, mode, company_code, date, commitment_cny) "
                          "VALUES ('I1', 'F', 'direct', 'C1', '2024-01-01', 100000)"))
        conn.execute(text("INSERT INTO cash_flows (investment_id, date, type, amount_cny) "
                          "VALUES ('I1', '2024-01-02', 'contribution', 100000)"))
    upgrade(directory=app.root_path + "/migrations")
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT entered_by, approved_by, approved_at FROM cash_flows")).one()
    assert row.entered_by is None and row.approved_by is None and row.approved_at is not None
