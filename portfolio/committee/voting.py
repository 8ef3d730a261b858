"""Counting the committee's votes: pure, on exact fractions (never floats).

`count_votes` gives the tally of one proposal at its meeting; `allowed_decisions` what
the chair may record from it. The use cases (portfolio.committee.meetings and .decisions) call these.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any


def exact_ratio(value: Any) -> Fraction:
    """A pass ratio as an exact fraction.

    The default is Decimal(2)/Decimal(3), which a Decimal can only hold rounded
    (0.666…667, a hair above 2/3); a ratio with more than 6 decimal places is taken as
    that rounding of a simple fraction and recovered (limit_denominator), so that
    exactly two thirds passes. "3/4", 0.75 and Fraction(3, 4) are taken as they are."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str) and "/" in value:
        return Fraction(value.strip())
    exact = Fraction(Decimal(str(value)))
    if isinstance(value, (Decimal, float, str)):
        exponent = Decimal(str(value)).normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > 6:
            return exact.limit_denominator(1000)
    return exact


@dataclass(frozen=True)
class Tally:
    """The count of one proposal's votes at its meeting."""

    eligible: tuple[str, ...]        # present and not recused (the proposer excluded)
    recused: tuple[str, ...]
    approve: int
    reject: int
    abstain: int
    not_voted: int
    quorum: int
    pass_ratio: Fraction
    votes: dict[str, str] = field(default_factory=dict)

    @property
    def quorum_met(self) -> bool:
        return len(self.eligible) >= self.quorum

    @property
    def needed(self) -> int:
        """The fewest 同意 votes that pass: ⌈ratio × eligible⌉ (exact)."""
        product = self.pass_ratio * len(self.eligible)
        return -((-product.numerator) // product.denominator)

    @property
    def still_open(self) -> bool:
        """Not passed yet, but the members who have not voted could still make it pass."""
        return self.quorum_met and not self.passes and self.approve + self.not_voted >= self.needed

    @property
    def passes(self) -> bool:
        # 同意 ≥ ratio × those present and not recused; abstaining or not voting is present, not 同意
        return self.quorum_met and Fraction(self.approve) >= self.pass_ratio * len(self.eligible)


def count_votes(present: Iterable[str], recused: Iterable[str], votes: dict[str, str], *, quorum: int,
                pass_ratio: Any, proposer: str | None = None) -> Tally:
    """Count the votes: only members present, not recused and not the proposer count.

    quorum: the fewest such members for any decision; pass_ratio: 同意 / those members."""
    recused_set = set(recused)
    eligible = sorted(m for m in set(present) if m not in recused_set and m != proposer)
    counted = {m: c for m, c in votes.items() if m in eligible}
    n = {c: sum(1 for v in counted.values() if v == c) for c in ("approve", "reject", "abstain")}
    return Tally(eligible=tuple(eligible), recused=tuple(sorted(recused_set)), approve=n["approve"],
                 reject=n["reject"], abstain=n["abstain"], not_voted=len(eligible) - len(counted),
                 quorum=int(quorum), pass_ratio=exact_ratio(pass_ratio), votes=counted)


def allowed_decisions(tally: Tally) -> tuple[str, ...]:
    """What the chair may record: nothing without a quorum; else what the votes allow."""
    if not tally.quorum_met:
        return ()
    return ("approved", "approved_with_conditions") if tally.passes else ("rejected", "deferred")


def tally_as_json(tally: Tally) -> dict[str, Any]:
    """A tally as it stands, to be kept with the decision made on it (JSON: the pass ratio as "p/q")."""
    return {"eligible": list(tally.eligible), "recused": list(tally.recused), "approve": tally.approve,
            "reject": tally.reject, "abstain": tally.abstain, "not_voted": tally.not_voted, "quorum": tally.quorum,
            "pass_ratio": str(tally.pass_ratio), "votes": dict(tally.votes)}


def tally_from_json(kept: dict[str, Any]) -> Tally:
    """The tally kept by `tally_as_json`, as it was."""
    return Tally(eligible=tuple(kept["eligible"]), recused=tuple(kept["recused"]), approve=int(kept["approve"]),
                 reject=int(kept["reject"]), abstain=int(kept["abstain"]), not_voted=int(kept["not_voted"]),
                 quorum=int(kept["quorum"]), pass_ratio=Fraction(kept["pass_ratio"]), votes=dict(kept["votes"]))
