"""proposal angel inputs: a proposal carries the company's founding date, headcount,
revenue and total assets, so the angel rules can be checked (and pass) at proposal time

Revision ID: e5a9c3d1f207
Revises: b7c1d2e3f4a5
Create Date: 2026-12-03 13:30:00

"""
from alembic import op
import sqlalchemy as sa

import models.types


# revision identifiers, used by Alembic.
revision = 'e5a9c3d1f207'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('founded', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('headcount', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revenue_cny', models.types.Money(), nullable=True))
        batch_op.add_column(sa.Column('total_assets_cny', models.types.Money(), nullable=True))
        batch_op.create_check_constraint('headcount_nonnegative', 'headcount IS NULL OR headcount >= 0')
        batch_op.create_check_constraint('revenue_nonnegative', 'revenue_cny IS NULL OR revenue_cny >= 0')
        batch_op.create_check_constraint('assets_nonnegative', 'total_assets_cny IS NULL OR total_assets_cny >= 0')


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_proposals_assets_nonnegative'), type_='check')
        batch_op.drop_constraint(op.f('ck_proposals_revenue_nonnegative'), type_='check')
        batch_op.drop_constraint(op.f('ck_proposals_headcount_nonnegative'), type_='check')
        batch_op.drop_column('total_assets_cny')
        batch_op.drop_column('revenue_cny')
        batch_op.drop_column('headcount')
        batch_op.drop_column('founded')
