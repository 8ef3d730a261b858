"""percent to eight places: an ownership is kept to 8 decimal places (stored ×10^8, was ×10^4),
so a percentage typed or computed finer than 4 places (a formula's 33.333333) is kept exactly
rather than refused; the stored values are scaled and the 0–100 % checks follow

Revision ID: c3f8a2d6e9b1
Revises: a1d4e7f0b2c3
Create Date: 2026-12-05 11:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f8a2d6e9b1'
down_revision = 'a1d4e7f0b2c3'
branch_labels = None
depends_on = None

TABLES = ('investments', 'proposals')
SCALE = 10_000  # ×10^4 more than before


def _range(limit: int) -> str:
    return f'ownership_pct IS NULL OR (ownership_pct >= 0 AND ownership_pct <= {limit})'


def _rescale(table: str, new_limit: int, scaled: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f'ck_{table}_ownership_range'), type_='check')
    op.execute(sa.text(f'UPDATE {table} SET ownership_pct = {scaled} WHERE ownership_pct IS NOT NULL'))
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_check_constraint('ownership_range', _range(new_limit))


def upgrade():
    for table in TABLES:
        _rescale(table, 10_000_000_000, f'ownership_pct * {SCALE}')


def downgrade():
    # back to 4 places, rounded half up as the type rounds (values are never negative)
    for table in TABLES:
        _rescale(table, 1_000_000, f'(ownership_pct + {SCALE // 2}) / {SCALE}')
