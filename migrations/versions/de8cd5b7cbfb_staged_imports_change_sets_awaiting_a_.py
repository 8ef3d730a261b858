"""staged imports: change sets awaiting a second person's approval

Revision ID: de8cd5b7cbfb
Revises: b7d3e9a41c26
Create Date: 2026-12-03 10:19:47.941258

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'de8cd5b7cbfb'
down_revision = 'b7d3e9a41c26'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('change_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('staged_version', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('preview', sa.JSON(), nullable=False),
    sa.Column('conflicts', sa.JSON(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('batch', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'applied', 'rejected')", name=op.f('ck_change_sets_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_sets'))
    )
    with op.batch_alter_table('change_sets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_sets_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('change_sets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_sets_status'))

    op.drop_table('change_sets')
