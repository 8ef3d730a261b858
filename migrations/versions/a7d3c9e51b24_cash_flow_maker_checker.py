"""cash flows under maker-checker: who entered a flow and who approved it, and when

A flow entered on screen is a draft until a second person approves it, as a valuation is.
The flows already in the book were booked under the old rule and stay in the figures: they
are carried over as approved at the upgrade, by nobody named (the audit trail keeps who
entered each).

Revision ID: a7d3c9e51b24
Revises: b4e2f9a7c610
Create Date: 2026-12-05 19:30:00

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d3c9e51b24'
down_revision = 'b4e2f9a7c610'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cash_flows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(), nullable=True))
    # naive UTC, as the application stores times (models.utcnow), whatever the server's zone
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    op.execute(sa.text("UPDATE cash_flows SET approved_at = :now").bindparams(now=now))


def downgrade():
    with op.batch_alter_table('cash_flows', schema=None) as batch_op:
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by')
        batch_op.drop_column('entered_by')
