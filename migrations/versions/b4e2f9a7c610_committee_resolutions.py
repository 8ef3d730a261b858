"""committee resolutions: a decision belongs to its (proposal, meeting) and is kept for good,
with the count and the attendance it was made on (a deferral stays on record when the proposal
goes to a later meeting; a later change of the fund's quorum or pass ratio leaves it as it was)

The decisions on record are carried over: each decision in the audit trail (so a deferral the
proposal's row had lost since is found again) and each decided proposal, counted as the book
stands at the upgrade (the count was not kept before).

Revision ID: b4e2f9a7c610
Revises: c3f8a2d6e9b1
Create Date: 2026-12-05 13:40:00

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4e2f9a7c610'
down_revision = 'c3f8a2d6e9b1'
branch_labels = None
depends_on = None

DECISIONS = ('approved', 'approved_with_conditions', 'rejected', 'deferred')

resolutions = sa.table(
    'resolutions', sa.column('proposal_id', sa.Integer), sa.column('meeting_id', sa.Integer),
    sa.column('decision', sa.String), sa.column('conditions', sa.Text), sa.column('decided_by', sa.String),
    sa.column('decided_at', sa.DateTime), sa.column('tally', sa.JSON), sa.column('attendance', sa.JSON))
audit_log = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('entity', sa.String),
                     sa.column('entity_key', sa.String), sa.column('action', sa.String), sa.column('after', sa.JSON))
proposals = sa.table(
    'proposals', sa.column('id', sa.Integer), sa.column('fund_code', sa.String), sa.column('status', sa.String),
    sa.column('meeting_id', sa.Integer), sa.column('decision', sa.String), sa.column('conditions', sa.Text),
    sa.column('decided_by', sa.String), sa.column('decided_at', sa.DateTime), sa.column('proposer', sa.String))
meetings = sa.table('meetings', sa.column('id', sa.Integer))
funds = sa.table('funds', sa.column('code', sa.String), sa.column('kind', sa.String), sa.column('settings', sa.JSON))
attendance = sa.table('meeting_attendance', sa.column('meeting_id', sa.Integer), sa.column('member', sa.String),
                      sa.column('present', sa.Boolean))
votes = sa.table('votes', sa.column('proposal_id', sa.Integer), sa.column('meeting_id', sa.Integer),
                 sa.column('member', sa.String), sa.column('choice', sa.String))
recusals = sa.table('recusals', sa.column('proposal_id', sa.Integer), sa.column('member', sa.String))


def upgrade():
    op.create_table('resolutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=32), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('tally', sa.JSON(), nullable=False),
    sa.Column('attendance', sa.JSON(), nullable=False),
    sa.CheckConstraint("decision IN ('approved', 'approved_with_conditions', 'rejected', 'deferred')",
                       name=op.f('ck_resolutions_decision')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_resolutions_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_resolutions_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolutions')),
    sa.UniqueConstraint('proposal_id', 'meeting_id', name=op.f('uq_resolutions_proposal_id'))
    )
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resolutions_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resolutions_proposal_id'), ['proposal_id'], unique=False)
    _carry_over(op.get_bind())


def _decisions_on_record(conn) -> dict[tuple[int, int], dict]:
    """(proposal, meeting) → the decision: from the audit trail's decisions, then the proposals' rows."""
    found: dict[tuple[int, int], dict] = {}
    meeting_ids = set(conn.execute(sa.select(meetings.c.id)).scalars())
    proposal_ids = set(conn.execute(sa.select(proposals.c.id)).scalars())
    for key, after in conn.execute(sa.select(audit_log.c.entity_key, audit_log.c.after).where(
            audit_log.c.entity == 'proposals', audit_log.c.action == 'decide').order_by(audit_log.c.id)):
        after = after or {}
        try:
            pid, mid = int(key), int(after['meeting_id'])
            decided_at = dt.datetime.fromisoformat(after['decided_at'])
        except (KeyError, TypeError, ValueError):
            continue
        if pid in proposal_ids and mid in meeting_ids and after.get('decision') in DECISIONS and after.get('decided_by'):
            found[(pid, mid)] = {'decision': after['decision'], 'conditions': after.get('conditions'),
                                 'decided_by': after['decided_by'], 'decided_at': decided_at}
    for row in conn.execute(sa.select(proposals).where(proposals.c.status == 'decided',
                                                       proposals.c.meeting_id.is_not(None))).mappings():
        if row['decision'] in DECISIONS:
            found[(row['id'], row['meeting_id'])] = {
                'decision': row['decision'], 'conditions': row['conditions'],
                'decided_by': row['decided_by'] or '', 'decided_at': row['decided_at'] or dt.datetime(1970, 1, 1)}
    return found


def _carry_over(conn) -> None:
    """Each decision on record, with its count as the book stands now."""
    from portfolio.committee.voting import count_votes, tally_as_json
    from portfolio.figures.settings import fund_settings

    found = _decisions_on_record(conn)
    if not found:
        return
    fund_of = dict(conn.execute(sa.select(proposals.c.id, proposals.c.fund_code)).all())
    proposer_of = dict(conn.execute(sa.select(proposals.c.id, proposals.c.proposer)).all())
    settings_of = {code: fund_settings(kind, settings or {})
                   for code, kind, settings in conn.execute(sa.select(funds.c.code, funds.c.kind, funds.c.settings))}
    rows = []
    for (pid, mid), decision in sorted(found.items()):
        present = {m: bool(p) for m, p in conn.execute(sa.select(attendance.c.member, attendance.c.present)
                                                        .where(attendance.c.meeting_id == mid))}
        cast = dict(conn.execute(sa.select(votes.c.member, votes.c.choice)
                                 .where(votes.c.proposal_id == pid, votes.c.meeting_id == mid)).all())
        recused = list(conn.execute(sa.select(recusals.c.member).where(recusals.c.proposal_id == pid)).scalars())
        settings = settings_of[fund_of[pid]]
        count = count_votes([m for m, p in present.items() if p], recused, cast,
                            quorum=int(settings['committee_quorum']), pass_ratio=settings['committee_pass_ratio'],
                            proposer=proposer_of[pid])
        rows.append({'proposal_id': pid, 'meeting_id': mid, **decision, 'tally': tally_as_json(count),
                     'attendance': present})
    op.bulk_insert(resolutions, rows)


def downgrade():
    # the proposals' rows keep their latest decision; a deferral since put on a later meeting
    # is left in the audit trail only, as before
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resolutions_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_resolutions_meeting_id'))

    op.drop_table('resolutions')
