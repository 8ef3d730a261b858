"""audit reason by key: the reasons the application writes itself ("导入变更集 #12 待审批")
kept by key and arguments beside their Chinese text, so the history shows them in the
reader's language; a reason a person typed has none

Revision ID: a1d4e7f0b2c3
Revises: e5a9c3d1f207
Create Date: 2026-12-03 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1d4e7f0b2c3'
down_revision = 'e5a9c3d1f207'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_said', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('reason_said')
