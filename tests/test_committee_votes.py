"""Vote counting at its boundaries (portfolio.committee.voting.count_votes), exact fractions.

The rule (task brief, issue 6): a decision needs at least `committee_quorum` (default 5)
members present and not recused; a proposal passes when 同意 ≥ `committee_pass_ratio`
(default 2/3) of those members; abstaining counts as present, not as approval.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from portfolio.committee.voting import allowed_decisions, count_votes, exact_ratio
from portfolio.figures.settings import fund_settings

DEFAULTS = fund_settings("innovation_fund")
QUORUM, RATIO = DEFAULTS["committee_quorum"], DEFAULTS["committee_pass_ratio"]


def members(n: int) -> list[str]:
    return [f"m{i}" for i in range(1, n + 1)]


def tally(present, votes, recused=(), proposer=None):
    return count_votes(present, recused, votes, quorum=QUORUM, pass_ratio=RATIO, proposer=proposer)


def test_the_defaults_are_five_and_two_thirds_exactly():
    assert QUORUM == 5
    assert exact_ratio(RATIO) == Fraction(2, 3)


def test_exactly_two_thirds_passes():
    # 4 of 6: 4 ≥ 2/3 × 6 = 4 exactly (a float or a rounded Decimal 0.666…7 would fail it)
    people = members(6)
    result = tally(people, {m: "approve" for m in people[:4]} | {m: "reject" for m in people[4:]})
    assert result.quorum_met and result.needed == 4 and result.passes
    assert allowed_decisions(result) == ("approved", "approved_with_conditions")


def test_four_of_seven_fails():
    people = members(7)
    result = tally(people, {m: "approve" for m in people[:4]} | {m: "reject" for m in people[4:]})
    assert result.needed == 5 and not result.passes
    assert allowed_decisions(result) == ("rejected", "deferred")


def test_five_of_seven_passes():
    people = members(7)
    result = tally(people, {m: "approve" for m in people[:5]} | {m: "abstain" for m in people[5:]})
    assert result.passes


def test_abstentions_count_as_present_not_approval():
    # 4 同意 + 2 弃权 of 6 passes (4 ≥ 4); 3 同意 + 3 弃权 fails though nobody said 反对
    people = members(6)
    assert tally(people, {m: "approve" for m in people[:4]} | {m: "abstain" for m in people[4:]}).passes
    result = tally(people, {m: "approve" for m in people[:3]} | {m: "abstain" for m in people[3:]})
    assert result.abstain == 3 and result.reject == 0 and not result.passes


def test_a_member_present_who_does_not_vote_counts_like_an_abstention():
    people = members(6)
    result = tally(people, {m: "approve" for m in people[:3]})
    assert result.not_voted == 3 and not result.passes


def test_quorum_of_five_present_and_not_recused():
    people = members(5)
    all_for = {m: "approve" for m in people}
    assert tally(people, all_for).quorum_met
    result = tally(members(4), {m: "approve" for m in members(4)})
    assert not result.quorum_met and not result.passes and allowed_decisions(result) == ()
    # six present, two recused: four left, below quorum; their votes are not counted
    recused = tally(members(6), {m: "approve" for m in members(6)}, recused=["m5", "m6"])
    assert recused.eligible == ("m1", "m2", "m3", "m4") and recused.approve == 4
    assert not recused.quorum_met and allowed_decisions(recused) == ()


def test_recused_members_leave_the_base_of_the_ratio():
    # 7 present, 1 recused → 6 count; 4 同意 of 6 passes, though 4 of 7 would not
    people = members(7)
    votes = {m: "approve" for m in people[:4]} | {"m5": "reject", "m6": "reject"}
    assert tally(people, votes, recused=["m7"]).passes
    assert not tally(people, votes).passes


def test_the_proposer_and_absent_members_do_not_count():
    people = members(6)
    votes = {m: "approve" for m in people} | {"outsider": "approve"}
    result = tally(people, votes, proposer="m1")
    assert "m1" not in result.eligible and result.approve == 5 and "outsider" not in result.votes


def test_other_ratios_stay_exact():
    assert exact_ratio("0.75") == Fraction(3, 4)
    assert exact_ratio("3/5") == Fraction(3, 5)
    assert exact_ratio(Decimal("0.501")) == Fraction(501, 1000)
    result = count_votes(members(4), [], {m: "approve" for m in members(3)}, quorum=3,
                         pass_ratio=Decimal("0.75"))
    assert result.approve == 3 and result.passes  # 3 ≥ 0.75 × 4


def test_a_vote_still_open_until_the_missing_votes_cannot_make_it_pass():
    people = members(6)
    assert tally(people, {"m1": "approve"}).still_open  # 1 + 5 not voted ≥ 4
    assert not tally(people, {"m1": "reject", "m2": "reject", "m3": "reject"}).still_open  # 0 + 3 < 4
