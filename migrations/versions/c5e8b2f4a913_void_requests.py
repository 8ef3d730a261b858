"""voids under maker-checker: a void of an approved cash flow or valuation is asked for by one
person (who, when; the reason in void_reason) and in force once another approves it

Nothing to carry over: the voids already in the book are in force as they were.

Revision ID: c5e8b2f4a913
Revises: a7d3c9e51b24
Create Date: 2026-12-05 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e8b2f4a913'
down_revision = 'a7d3c9e51b24'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('cash_flows', 'valuations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('void_requested_by', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('void_requested_at', sa.DateTime(), nullable=True))


def downgrade():
    for table in ('cash_flows', 'valuations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('void_requested_at')
            batch_op.drop_column('void_requested_by')
