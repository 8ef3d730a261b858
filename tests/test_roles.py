"""Every route of the screens (blueprints main, book, admin) for every role, through the
test client: anonymous → login; viewer and committee read but write nothing (403 on every
write route, a form page's GET included); a manager writes; an admin does everything."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from models import CashFlow, User, Valuation
from portfolio.book import jobs, records
from portfolio.gp import packages as gp_packages
from portfolio.gp.template import empty_content
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, make_user

ROLES = ("viewer", "committee", "manager", "admin")
# Which roles may use a route: read = everybody logged in.
ALLOWED = {
    "read": set(ROLES),
    "write": {"manager", "admin"},
    "approve": {"manager", "admin"},
    "configure": {"admin"},
}


@pytest.fixture
def ids(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    flow = db.session.execute(select(CashFlow.id).limit(1)).scalar()
    draft = records.record_valuation(db.session, {"investment_id": "QY-CO1", "as_of": "2025-12-31",
                                                  "fair_value_cny": "1", "method": "cost"}, username="someone")
    other = make_user(db, "other_user", "viewer")
    upload, _ = jobs.find_or_create(db.session, "stage_upload", {"file": "0" * 64, "filename": "b.xlsx", "by": "m"},
                                    username="m", version="1")
    backup, _ = jobs.find_or_create(db.session, "backup", {}, username="a", version="1")
    export, _ = jobs.find_or_create(db.session, "list_export", {"path": "/cash-flows/export.xlsx?fund=QY", "lang": "zh",
                                                                "as_of": None, "mark": 0}, username="v", version="1")
    package = gp_packages.save_package(db.session, "QY-SF1", dt.date(2025, 12, 31), empty_content(),
                                       username="someone", allowed=None)
    return {"flow": flow, "valuation": draft.id, "user": other.id, "upload_job": upload.id, "backup_job": backup.id,
            "export_job": export.id, "package": package.id}


# (method, url template, permission, endpoint)
ROUTES = [
    ("GET", "/", "read", "main.home"),
    ("GET", "/funds/QY", "read", "main.fund"),
    ("GET", "/funds/QY/compliance", "read", "main.fund_compliance"),
    ("GET", "/funds/QY/settings", "configure", "fund_settings.edit"),
    ("POST", "/funds/QY/settings", "configure", "fund_settings.edit"),
    ("POST", "/funds/QY/settings/approve", "approve", "fund_settings.approve"),
    ("POST", "/funds/QY/settings/reject", "approve", "fund_settings.reject"),
    ("GET", "/investments", "read", "main.investments"),
    ("GET", "/investments/QY-D1", "read", "main.investment"),
    ("GET", "/sub-funds", "read", "main.sub_funds"),
    ("GET", "/sub-funds/SF1", "read", "main.sub_fund"),
    ("GET", "/companies", "read", "main.companies"),
    ("GET", "/companies/C1", "read", "main.company"),
    ("GET", "/history", "read", "main.history"),
    ("GET", "/history/investments/QY-D1", "read", "main.entity_history"),
    ("GET", "/book/", "read", "book.index"),
    ("GET", "/book/download", "read", "book.download"),
    ("GET", "/book/template", "read", "book.template"),
    ("GET", "/book/investments/new", "write", "book.new_investment"),
    ("POST", "/book/investments/new", "write", "book.new_investment"),
    ("GET", "/book/cash-flows/new", "write", "book.new_cash_flow"),
    ("POST", "/book/cash-flows/new", "write", "book.new_cash_flow"),
    ("GET", "/book/valuations/new", "write", "book.new_valuation"),
    ("POST", "/book/valuations/new", "write", "book.new_valuation"),
    ("GET", "/book/companies/new", "write", "book.new_company"),
    ("POST", "/book/companies/new", "write", "book.new_company"),
    ("GET", "/book/sub-funds/new", "write", "book.new_sub_fund"),
    ("POST", "/book/sub-funds/new", "write", "book.new_sub_fund"),
    ("GET", "/book/upload", "write", "book.upload"),
    ("POST", "/book/upload", "write", "book.upload"),
    ("GET", "/book/cash-flows/{flow}/void", "write", "book.void_cash_flow"),
    ("POST", "/book/cash-flows/{flow}/void", "write", "book.void_cash_flow"),
    ("GET", "/book/valuations/{valuation}/void", "write", "book.void_valuation"),
    ("POST", "/book/valuations/{valuation}/void", "write", "book.void_valuation"),
    ("GET", "/book/upload/errors.csv", "write", "book.upload_errors"),
    ("GET", "/book/upload/jobs/{upload_job}", "write", "book.upload_job"),
    ("GET", "/book/upload/jobs/{upload_job}.json", "write", "book.upload_job_status"),
    ("GET", "/book/cash-flows/{flow}/correct", "write", "book.correct_cash_flow"),
    ("POST", "/book/cash-flows/{flow}/correct", "write", "book.correct_cash_flow"),
    ("GET", "/book/valuations/{valuation}/correct", "write", "book.correct_valuation"),
    ("POST", "/book/valuations/{valuation}/correct", "write", "book.correct_valuation"),
    ("GET", "/book/investments/QY-D1/correct", "write", "book.correct_investment"),
    ("POST", "/book/investments/QY-D1/correct", "write", "book.correct_investment"),
    ("POST", "/book/investments/QY-D1/correction/approve", "approve", "book.approve_correction"),
    ("POST", "/book/investments/QY-D1/correction/reject", "approve", "book.reject_correction"),
    ("POST", "/book/cash-flows/{flow}/correction/approve", "approve", "book.approve_flow_correction"),
    ("POST", "/book/cash-flows/{flow}/correction/reject", "approve", "book.reject_flow_correction"),
    ("POST", "/book/valuations/{valuation}/correction/approve", "approve", "book.approve_valuation_correction"),
    ("POST", "/book/valuations/{valuation}/correction/reject", "approve", "book.reject_valuation_correction"),
    ("POST", "/book/investment-requests/QY-D1/approve", "approve", "book.approve_new_investment"),
    ("POST", "/book/investment-requests/QY-D1/reject", "approve", "book.reject_new_investment"),
    ("POST", "/book/gp-packages/{package}/reopen", "approve", "book.reopen_gp_package"),
    ("POST", "/book/gp-packages/{package}/reopen/approve", "approve", "book.approve_gp_reopening"),
    ("POST", "/book/gp-packages/{package}/reopen/reject", "approve", "book.reject_gp_reopening"),
    ("GET", "/book/pending", "approve", "book.pending"),
    ("GET", "/book/valuations/pending", "approve", "book.pending"),
    ("POST", "/book/valuations/{valuation}/approve", "approve", "book.approve_valuation"),
    ("POST", "/book/cash-flows/{flow}/approve", "approve", "book.approve_cash_flow"),
    ("POST", "/book/cash-flows/{flow}/void/approve", "approve", "book.approve_flow_void"),
    ("POST", "/book/cash-flows/{flow}/void/reject", "approve", "book.reject_flow_void"),
    ("POST", "/book/valuations/{valuation}/void/approve", "approve", "book.approve_valuation_void"),
    ("POST", "/book/valuations/{valuation}/void/reject", "approve", "book.reject_valuation_void"),
    ("GET", "/admin/users", "configure", "admin.users"),
    ("GET", "/admin/users/new", "configure", "admin.new_user"),
    ("POST", "/admin/users/new", "configure", "admin.new_user"),
    ("POST", "/admin/users/{user}/role", "configure", "admin.change_role"),
    ("POST", "/admin/users/{user}/deactivate", "configure", "admin.deactivate"),
    ("POST", "/admin/users/{user}/password", "configure", "admin.reset_password"),
    ("GET", "/admin/tokens", "configure", "admin.api_tokens"),
    ("POST", "/admin/tokens", "configure", "admin.api_tokens"),
    ("POST", "/admin/tokens/1/revoke", "configure", "admin.revoke_api_token"),
    ("GET", "/admin/backups", "configure", "admin.backups"),
    ("POST", "/admin/backups", "configure", "admin.backups"),
    ("GET", "/admin/backups/jobs/{backup_job}", "configure", "admin.backup_job"),
    ("GET", "/admin/backups/jobs/{backup_job}.json", "configure", "admin.backup_job_status"),
    ("GET", "/admin/backups/jobs/{backup_job}/download", "configure", "admin.backup_download"),
    ("POST", "/admin/backups/prune", "configure", "admin.prune_backups"),
    ("GET", "/investments/export.xlsx?fund=QY&mode=direct", "read", "exports.investments"),
    ("GET", "/sub-funds/export.xlsx?q=SF", "read", "exports.sub_funds"),
    ("GET", "/companies/export.xlsx?sector=digital", "read", "exports.companies"),
    ("GET", "/funds/QY/compliance/export.xlsx?status=pass", "read", "exports.compliance"),
    ("GET", "/history/export.xlsx?entity=investments", "read", "exports.history"),
    ("GET", "/cash-flows/export.xlsx?fund=QY", "read", "exports.cash_flows"),
    ("GET", "/valuations/export.xlsx?investment=QY-CO1", "read", "exports.valuations"),
    ("GET", "/exports/jobs/{export_job}", "read", "exports.export_job"),
    ("GET", "/exports/jobs/{export_job}.json", "read", "exports.export_job_status"),
    ("GET", "/exports/jobs/{export_job}/download", "read", "exports.export_download"),
]


def test_the_table_lists_every_route_of_the_screens(app):
    mine = {(method, rule.endpoint) for rule in app.url_map.iter_rules()
            if rule.endpoint.split(".")[0] in ("main", "book", "admin", "exports", "fund_settings")
            for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert mine == {(method, endpoint) for method, _, _, endpoint in ROUTES}


@pytest.mark.parametrize("method,url,permission,endpoint", ROUTES)
def test_anonymous_is_sent_to_login(client, ids, method, url, permission, endpoint):
    response = client.open(url.format(**ids), method=method)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(as_role, ids, role):
    client = as_role(role)
    for method, url, permission, _endpoint in ROUTES:
        response = client.open(url.format(**ids), method=method, data={})
        if role in ALLOWED[permission]:
            # allowed: a page, a redirect after a write, or a form shown again with its errors
            assert response.status_code in (200, 302), (role, method, url, response.status_code)
        else:
            assert response.status_code == 403, (role, method, url, response.status_code)


def test_committee_and_viewer_write_nothing(db, as_role, ids):
    for role in ("viewer", "committee"):
        client = as_role(role, username=f"{role}_w")
        client.post(f"/book/valuations/{ids['valuation']}/approve")
        client.post(f"/book/cash-flows/{ids['flow']}/void", data={"reason": "x"})
        client.post(f"/admin/users/{ids['user']}/deactivate")
    db.session.expire_all()
    assert db.session.get(Valuation, ids["valuation"]).approved_at is None
    assert db.session.get(CashFlow, ids["flow"]).voided_at is None
    assert db.session.get(User, ids["user"]).active is True


def test_a_manager_writes_and_an_admin_administers(db, client, ids):
    from tests.conftest import login

    make_user(db, "mgr", "manager")
    login(client, "mgr")
    response = client.post(f"/book/cash-flows/{ids['flow']}/void", data={"reason": "重复录入"})
    assert response.status_code == 302
    assert client.post(f"/admin/users/{ids['user']}/role", data={f"u{ids['user']}-role": "manager"}).status_code == 403
    make_user(db, "root", "admin")
    login(client, "root")
    response = client.post(f"/admin/users/{ids['user']}/role", data={f"u{ids['user']}-role": "manager"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CashFlow, ids["flow"]).void_requested_by == "mgr"  # the void asked for
    assert db.session.get(User, ids["user"]).role == "manager"


@pytest.mark.parametrize("role", ROLES)
def test_navigation_offers_only_pages_the_role_may_open(db, as_role, role):
    client = as_role(role)
    page = client.get("/investments").get_data(as_text=True)
    nav = page[page.index("<nav"):page.index("</nav>")]
    assert ('href="/admin/users"' in nav) == (role in ALLOWED["configure"])
    assert 'href="/investments"' in nav


def test_the_pending_page_is_built_at_its_address_and_its_old_one_still_leads_there(app, as_role):
    """url_for('book.pending') is /book/pending (as the README says), not the old
    /book/valuations/pending it had built; the old address still serves a checker the page."""
    from flask import url_for

    with app.test_request_context():
        assert url_for("book.pending") == "/book/pending"
        assert url_for("book.pending", _anchor="new-investments") == "/book/pending#new-investments"
    client = as_role("manager")
    old = client.get("/book/valuations/pending")
    assert old.status_code == 200 and "待审批记录" in old.get_data(as_text=True)
