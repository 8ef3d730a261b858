"""corrections of an investment's terms under maker-checker: asked for by one person, held in
pending_corrections, applied once another approves them

Revision ID: d2f7a4c8e615
Revises: c5e8b2f4a913
Create Date: 2026-12-05 19:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2f7a4c8e615'
down_revision = 'c5e8b2f4a913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_key', sa.String(length=200), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('asked_by', sa.String(length=64), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_corrections')),
    sa.UniqueConstraint('entity', 'entity_key', name=op.f('uq_pending_corrections_entity'))
    )


def downgrade():
    op.drop_table('pending_corrections')
