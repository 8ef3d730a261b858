"""forecast parameters: the calibrated TA parameters of a unit may be set by hand (issue 16)

Revision ID: b7d3e9a41c26
Revises: f4fe36a20c15
Create Date: 2026-12-03 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3e9a41c26'
down_revision = 'f4fe36a20c15'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('forecast_parameters',
    sa.Column('investment_id', sa.String(length=64), nullable=False),
    sa.Column('rc_early', sa.Float(), nullable=True),
    sa.Column('rc_late', sa.Float(), nullable=True),
    sa.Column('bow', sa.Float(), nullable=True),
    sa.Column('life', sa.Float(), nullable=True),
    sa.Column('growth', sa.Float(), nullable=True),
    sa.Column('yield_floor', sa.Float(), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('bow IS NULL OR bow > 0', name=op.f('ck_forecast_parameters_bow')),
    sa.CheckConstraint('growth IS NULL OR growth > -1', name=op.f('ck_forecast_parameters_growth')),
    sa.CheckConstraint('life IS NULL OR life > 0', name=op.f('ck_forecast_parameters_life')),
    sa.CheckConstraint('rc_early IS NULL OR (rc_early >= 0 AND rc_early <= 1)', name=op.f('ck_forecast_parameters_rc_early')),
    sa.CheckConstraint('rc_late IS NULL OR (rc_late >= 0 AND rc_late <= 1)', name=op.f('ck_forecast_parameters_rc_late')),
    sa.CheckConstraint('yield_floor IS NULL OR (yield_floor >= 0 AND yield_floor <= 1)', name=op.f('ck_forecast_parameters_yield_floor')),
    sa.ForeignKeyConstraint(['investment_id'], ['investments.id'], name=op.f('fk_forecast_parameters_investment_id_investments')),
    sa.PrimaryKeyConstraint('investment_id', name=op.f('pk_forecast_parameters'))
    )


def downgrade():
    op.drop_table('forecast_parameters')
