"""Every blueprint of the app, one per screen family (one line each, so additions merge cleanly),
and the converter their addresses' ids go through."""
from collections.abc import Callable
from typing import Any

from werkzeug.routing import IntegerConverter, Rule

from web import (
    admin,
    api,
    auth,
    book,
    change_sets,
    committee,
    exports,
    forecast,
    fund_settings,
    gp,
    main,
    reports,
)

BLUEPRINTS = [
    auth.bp,
    main.bp,
    book.bp,
    api.bp,
    reports.bp,
    committee.bp,
    admin.bp,
    fund_settings.bp,
    forecast.bp,
    change_sets.bp,
    gp.bp,
    exports.bp,
]


# the largest id a table holds: its primary key is an integer column (PostgreSQL's 4 bytes)
MAX_ROW_ID = 2**31 - 1


class RowId(IntegerConverter):
    """`<int:…>` in every address: a row's id, at most MAX_ROW_ID. A larger number matches no
    route (404, as any id not found) instead of reaching the database, which refuses it
    (PostgreSQL: integer out of range; SQLite: past 64 bits): a 500 before."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ROW_ID if max is None else max,
                         signed=signed)


class LazyBuildRule(Rule):
    """A route whose URL builders are compiled when it first builds a URL. Werkzeug compiles
    two for every rule as it is added (Python code made through `ast` and `compile`): most of
    the cost of adding the app's routes, paid by every process, and by a command that builds
    no URL (`report`) for nothing. The builder compiled is werkzeug's own, so every URL is
    the same; compiled twice at once by two threads, the two are alike."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_now = super()._compile_builder
        compiled: list[Callable[..., tuple[str, str]]] = []

        def build(rule: Rule, /, **values: Any) -> tuple[str, str]:  # (any name may be a value: ?rule=)
            if not compiled:
                compiled.append(compile_now(append_unknown))
            return compiled[0](rule, **values)

        return build
