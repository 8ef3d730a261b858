"""Every blueprint of the app, one per screen family."""
from web import admin, api, auth, book, committee, fund_settings, gp, main, reports

BLUEPRINTS = [auth.bp, main.bp, book.bp, api.bp, reports.bp, committee.bp, admin.bp,
              fund_settings.bp, gp.bp]
