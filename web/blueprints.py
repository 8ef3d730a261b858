"""Every blueprint of the app, one per screen family (one line each, so additions merge cleanly)."""
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
