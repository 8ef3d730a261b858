"""form submissions: the idempotency key of every applied form, so a form is applied once

Revision ID: b7c1d2e3f4a5
Revises: 0432f2582a43
Create Date: 2026-12-03 10:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f4a5'
down_revision = '0432f2582a43'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_submissions',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=True),
    sa.Column('entity_key', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_form_submissions'))
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_submissions_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submissions_at'))
    op.drop_table('form_submissions')
