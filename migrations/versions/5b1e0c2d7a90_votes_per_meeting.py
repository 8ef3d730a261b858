"""votes per meeting: a deferred proposal is voted on again at a later meeting

Revision ID: 5b1e0c2d7a90
Revises: 029883e3e653
Create Date: 2026-11-26 03:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b1e0c2d7a90'
down_revision = '029883e3e653'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_constraint('uq_votes_proposal_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_votes_meeting_id'), ['meeting_id', 'proposal_id', 'member'])


def downgrade():
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_votes_meeting_id'), type_='unique')
        batch_op.create_unique_constraint('uq_votes_proposal_id', ['proposal_id', 'member'])
