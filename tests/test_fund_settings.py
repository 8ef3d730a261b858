"""Fund settings: the use case (validation, overrides stored exactly, audited, one commit)
and the admin screen (every setting with its default, errors beside the fields, 403 for others)."""
from __future__ import annotations

import html
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, select

from models import AuditEntry, Fund
from portfolio.book.fund_settings import SPECS, update_fund_settings
from portfolio.errors import FieldErrors
from portfolio.figures.settings import DEFAULTS, defaults_for
from tests.conftest import approve_waiting_settings

URL = "/funds/QY/settings"
REASON = "按基金章程调整"  # why a change is asked for (required)


@pytest.fixture
def fund(db):
    f = Fund(code="QY", name="宁波千亿科技创新基金", kind="innovation_fund", size_cny=Decimal("100000000000"),
             vintage_year=2023, settings={})
    db.session.add(f)
    db.session.add(Fund(code="TS", name="宁波天使投资引导基金", kind="angel_guidance",
                        size_cny=Decimal("1000000000"), vintage_year=2023, settings={}))
    db.session.commit()
    return f


def _settings(db, code="QY"):
    db.session.expire_all()
    return db.session.get(Fund, code).settings


def _audits(db, action="update"):
    """The changes of settings applied (`action` update), or asked for (request_correction)."""
    return db.session.execute(select(AuditEntry).where(AuditEntry.entity == "funds.settings",
                                                       AuditEntry.action == action)
                              .order_by(AuditEntry.id)).scalars().all()


def _approved(db, code="QY", checker="checker"):
    """The change the page asked for, approved by another person."""
    approve_waiting_settings(db.session, code, checker=checker)


def test_every_setting_has_a_spec():
    for kind in DEFAULTS:
        assert set(defaults_for(kind)) <= set(SPECS)


def test_update_stores_overrides_exactly_audits_and_commits_once(db, fund):
    commits = []
    event.listen(db.session(), "after_commit", lambda s: commits.append(1))
    result = update_fund_settings(db.session, "QY", {"subfund_share_cap": "0.35", "home_region_prefix": "3302",
                                                     "angel_headcount": "200", "mirr_finance_rate": "0.06",
                                                     "prohibited_instruments": ["guarantee", "debt", "convertible"]},
                                  username="admin1")
    assert len(commits) == 1
    # equal to the default (home_region_prefix) is not stored; Decimals as strings
    assert _settings(db) == {"subfund_share_cap": "0.35", "angel_headcount": 200, "mirr_finance_rate": 0.06,
                             "prohibited_instruments": ["convertible", "debt", "guarantee"]}
    assert result["subfund_share_cap"] == Decimal("0.35") and result["angel_headcount"] == 200
    [entry] = _audits(db)
    assert (entry.username, entry.entity_key, entry.before) == ("admin1", "QY", {})
    assert entry.after == _settings(db)


def test_blank_goes_back_to_default_and_no_change_writes_nothing(db, fund):
    update_fund_settings(db.session, "QY", {"ownership_cap": "0.25"}, username="admin1")
    update_fund_settings(db.session, "QY", {"ownership_cap": "0.25"}, username="admin1")   # no change
    assert len(_audits(db)) == 1
    update_fund_settings(db.session, "QY", {"ownership_cap": ""}, username="admin1")
    assert _settings(db) == {}
    entries = _audits(db)
    assert len(entries) == 2 and entries[-1].before == {"ownership_cap": "0.25"} and entries[-1].after == {}


def test_defaults_depend_on_the_kind(db, fund):
    # 0.40 is the angel default: stored for QY, not for TS
    update_fund_settings(db.session, "QY", {"subfund_share_cap": "0.40"}, username="a")
    update_fund_settings(db.session, "TS", {"subfund_share_cap": "0.40"}, username="a")
    assert _settings(db, "QY") == {"subfund_share_cap": "0.40"} and _settings(db, "TS") == {}


@pytest.mark.parametrize("key, value", [
    ("subfund_share_cap", "1.2"), ("ownership_cap", "-0.1"), ("single_company_cap", "abc"),
    ("single_company_cap", "0"), ("home_region_prefix", "33O2"), ("home_region_prefix", "3"),
    ("home_region_prefix", "3302011"), ("investment_period_years", "2.5"), ("angel_headcount", "-1"),
    ("angel_company_size_cny", "1.001"), ("prohibited_instruments", ["debt", "loan"]),
    ("committee_quorum", "0"), ("mirr_finance_rate", "NaN"), ("no_such_setting", "1"),
    # exponents and endless digits: 1e-999999999 had been kept and then hung the page showing it
    ("committee_pass_ratio", "1e-999999999"), ("committee_pass_ratio", "9e999999/1e-999999"),
    ("ownership_cap", "1e-999999999"), ("ownership_cap", "3E-1"), ("ownership_cap", "0." + "0" * 60 + "1"),
    ("committee_pass_ratio", "2/0"), ("subfund_share_cap", "Infinity"),
])
def test_bad_values_are_field_errors_and_change_nothing(db, fund, key, value):
    with pytest.raises(FieldErrors) as err:
        update_fund_settings(db.session, "QY", {"ownership_cap": "0.2", key: value}, username="a")
    assert [f for f, _ in err.value.errors] == [key]
    assert _settings(db) == {} and _audits(db) == []


@pytest.mark.parametrize("key, typed, stored", [("ownership_cap", "０．２５", Decimal("0.25")),
                                               ("committee_pass_ratio", "2 / 3", Decimal(2) / Decimal(3)),
                                               ("committee_pass_ratio", "２／３", Decimal(2) / Decimal(3))])
def test_a_number_is_read_as_people_write_it(db, fund, key, typed, stored):
    assert update_fund_settings(db.session, "QY", {key: typed}, username="a")[key] == stored


def test_a_value_stored_before_the_bounds_is_shown_short(db, fund):
    """A limit kept before exponents were refused shows in a few characters, at once."""
    from portfolio.book.fund_settings import display

    assert display(Decimal("1E-999999999"), "ownership_cap") == "1E-999999999"
    assert display(Decimal("1E-999999999"), "committee_pass_ratio") == "1E-999999999"


def test_all_errors_at_once(db, fund):
    with pytest.raises(FieldErrors) as err:
        update_fund_settings(db.session, "QY", {"ownership_cap": "2", "home_region_prefix": "x"}, username="a")
    assert set(err.value.as_dict()) == {"ownership_cap", "home_region_prefix"}


def test_unknown_fund(db, fund):
    with pytest.raises(FieldErrors):
        update_fund_settings(db.session, "NOPE", {}, username="a")


# ---------------------------------------------------------------- the screen
def test_admin_sees_every_setting_with_its_default(as_role, fund):
    client = as_role("admin")
    page = client.get(URL).get_data(as_text=True)
    for key, _default in defaults_for("innovation_fund").items():
        assert f'name="{key}"' in page, key
        assert f'data-default-for="{key}"' in page
    assert "认缴占子基金规模上限" in page and 'value="30%"' in page and 'value="3302"' in page


def test_admin_asks_another_approves_and_both_are_audited(as_role, db, fund):
    client = as_role("admin")
    response = client.post(URL, data={"subfund_share_cap": "0.35", "home_region_prefix": "3302",
                                      "prohibited_instruments": ["debt", "guarantee"], "angel_headcount": "300",
                                      "change_reason": REASON})
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    assert _settings(db) == {} and _audits(db) == []  # asked for: the settings in force stay
    [asked] = _audits(db, "request_correction")
    assert asked.username == "admin1" and asked.after == {"subfund_share_cap": "0.35"}
    page = client.get(URL).get_data(as_text=True)
    assert "设置修改申请已提交" in page and 'value="30%"' in page
    assert 'data-settings-request="QY"' in page and "须由他人批准" in page  # the asker's own: no button
    _approved(db)
    assert _settings(db) == {"subfund_share_cap": "0.35"}
    [entry] = _audits(db)
    assert entry.username == "checker" and entry.reason_said["key"] == "settings_asked_by"
    page = client.get(URL).get_data(as_text=True)
    assert 'value="35%"' in page and 'data-settings-request' not in page


def test_the_amount_setting_is_typed_in_wan_beside_its_unit_and_stored_exactly(as_role, db, fund):
    client = as_role("admin")
    page = client.get(URL).get_data(as_text=True)
    assert 'name="angel_company_size_cny" type="text" value="10000"' in page  # 1 亿元 in 万元
    assert 'name="angel_company_size_cny_unit"' in page and "10,000.00 万元" in page  # the default, in 万元
    kept = {"prohibited_instruments": defaults_for("innovation_fund")["prohibited_instruments"], "change_reason": REASON}
    assert client.post(URL, data={**kept, "angel_company_size_cny": "5,000.5"}).status_code == 302
    _approved(db)
    assert _settings(db) == {"angel_company_size_cny": "50005000.00"}
    assert client.post(URL, data={**kept, "angel_company_size_cny": "50005000", "angel_company_size_cny_unit": "yuan"}
                       ).status_code == 302  # the same amount: nothing asked for
    assert len(_audits(db, "request_correction")) == 1
    assert _settings(db) == {"angel_company_size_cny": "50005000.00"}
    refused = client.post(URL, data={**kept, "angel_company_size_cny": "0.0000001"}).get_data(as_text=True)
    assert 'data-field="angel_company_size_cny">以万元填写时最多六位小数' in refused
    assert _settings(db) == {"angel_company_size_cny": "50005000.00"}


def test_bad_input_keeps_what_was_typed_and_shows_errors_beside_the_fields(as_role, db, fund):
    client = as_role("admin")
    response = client.post(URL, data={"subfund_share_cap": "1.5", "home_region_prefix": "宁波",
                                      "ownership_cap": "0.25", "prohibited_instruments": ["debt"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="1.5"' in page and 'value="宁波"' in page and 'value="0.25"' in page
    assert re.search(r'data-field="subfund_share_cap">应在 0% 到 100% 之间', page)
    assert re.search(r'data-field="home_region_prefix">请输入 2 到 6 位数字', page)
    assert 'data-field="ownership_cap"' not in page
    assert _settings(db) == {} and _audits(db) == []


def test_a_ratio_out_of_range_is_refused_with_its_limits_written_as_multiples(as_role, db, fund):
    """A ratio is shown as a multiple (1.50x); its range error had written its limits as bare
    numbers (应在 0 到 100 之间), as if 100 were another kind of figure than the 1.50x beside it."""
    client = as_role("admin")
    assert 'value="1.50x"' in client.get(URL).get_data(as_text=True)  # the page writes a ratio so
    page = client.post(URL, data={"reinvestment_multiple": "150", "coinvest_lead_ratio": "101x"}).get_data(as_text=True)
    assert 'data-field="reinvestment_multiple">应在 0.00x 到 100.00x 之间' in page, page
    assert 'data-field="coinvest_lead_ratio">应在 0.00x 到 100.00x 之间' in page
    client.get("/lang/en")
    english = client.post(URL, data={"reinvestment_multiple": "150"}).get_data(as_text=True)
    assert 'data-field="reinvestment_multiple">Must be between 0.00x and 100.00x' in english
    assert _settings(db) == {}


@pytest.mark.parametrize("role", ["manager", "committee", "viewer"])
def test_others_get_403(as_role, db, fund, role):
    client = as_role(role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, data={"subfund_share_cap": "0.9"}).status_code == 403
    assert _settings(db) == {}


def test_unknown_fund_is_404(as_role, fund):
    assert as_role("admin").get("/funds/NOPE/settings").status_code == 404


def test_login_needed(client, fund):
    assert client.get(URL).status_code == 302


def test_csrf_is_required(app, as_role, db, fund):
    client = as_role("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(URL, data={"subfund_share_cap": "0.35"})
        assert response.status_code in (200, 400)
        assert _settings(db) == {}
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# ---------------------------------------------------------------- in a real browser
from tests.browser import log_in, screenshot  # noqa: E402
from tests.conftest import make_user  # noqa: E402


@pytest.mark.browser
def test_settings_screen_in_a_browser(live_server, new_page, db, fund):
    make_user(db, "admin_e2e", "admin")
    page = new_page()
    log_in(page, live_server, "admin_e2e")
    page.goto(live_server + URL)
    assert page.input_value("#subfund_share_cap") == "30%"
    # a wrong value: the error beside the field, what was typed kept
    page.fill("#subfund_share_cap", "1.7")
    page.fill("#ownership_cap", "0.25")
    page.click("#fund-settings button[type=submit]")
    error = page.locator('.error[data-field="subfund_share_cap"]').inner_text()
    assert error.startswith("应在 0% 到 100% 之间"), error
    assert page.input_value("#subfund_share_cap") == "1.7" and page.input_value("#ownership_cap") == "0.25"
    screenshot(page, "fund_settings_error")
    # corrected: saved and shown
    page.fill("#subfund_share_cap", "35%")
    page.uncheck("input[name=prohibited_instruments][value=guarantee]")
    page.fill("#change_reason", REASON)
    page.click("#fund-settings button[type=submit]")
    assert "设置修改申请已提交" in page.inner_text(".flash")
    assert page.input_value("#subfund_share_cap") == "30%"  # in force once another approves it
    _approved(db)
    page.goto(live_server + URL)
    assert page.input_value("#subfund_share_cap") == "35%"
    screenshot(page, "fund_settings_saved")
    assert _settings(db) == {"subfund_share_cap": "0.35", "ownership_cap": "0.25",
                             "prohibited_instruments": ["debt"]}
    # one audited change, from nothing: the rejected submission stored nothing
    [entry] = _audits(db)
    assert entry.before == {} and entry.username == "checker"
    [asked] = _audits(db, "request_correction")
    assert asked.username == "admin_e2e"


def test_settings_screen_in_english(as_role, fund):
    client = as_role("admin")
    client.get("/lang/en")
    page = client.get(URL).get_data(as_text=True)
    assert "Fund settings" in page and "Cap on commitment / sub-fund size" in page and "Default" in page


def test_the_pme_benchmark_is_an_index_of_the_book(db, fund, tmp_path):
    """Issue 15: the fund's default PME index must be a series the book holds; blank is none."""
    from portfolio.book.reading import import_index

    with pytest.raises(FieldErrors) as err:
        update_fund_settings(db.session, "QY", {"pme_index": "CSI300"}, username="a")
    assert set(err.value.as_dict()) == {"pme_index"} and _settings(db) == {}
    levels = tmp_path / "csi300.csv"
    levels.write_text("date,level\n2023-01-03,3887.9\n2023-01-04,3892.9\n", encoding="utf-8")
    import_index(db.session, "CSI300", levels, "a")
    update_fund_settings(db.session, "QY", {"pme_index": "CSI300"}, username="a")
    assert _settings(db) == {"pme_index": "CSI300"}
    update_fund_settings(db.session, "QY", {"pme_index": ""}, username="a")
    assert _settings(db) == {}


def _version(page: str) -> str:
    return re.search(r'name="version" type="hidden" value="([0-9a-f]+)"', page).group(1)


def test_a_settings_form_from_before_anothers_save_is_refused_not_written_over(as_role, db, fund):
    """Two admins open the page; the first saves a change of one setting; the second, whose page
    still shows the old value, saves a change of another. The form posts every setting, so the
    second save had put the first one's value back without a word. The form carries the
    settings' version: the second is refused, and keeps what was typed."""
    first, second = as_role("admin"), as_role("admin")
    old_version = _version(second.get(URL).get_data(as_text=True))
    assert _version(first.get(URL).get_data(as_text=True)) == old_version
    base = {"subfund_share_cap": "0.30", "home_region_prefix": "3302", "prohibited_instruments": ["debt", "guarantee"],
            "change_reason": REASON}
    saved = first.post(URL, data={**base, "subfund_share_cap": "0.35", "version": old_version})
    assert saved.status_code == 302
    _approved(db)
    assert _settings(db) == {"subfund_share_cap": "0.35"}
    refused = second.post(URL, data={**base, "home_region_prefix": "3303", "version": old_version})
    assert refused.status_code == 200 and "这些设置在您打开页面之后已被他人修改" in refused.get_data(as_text=True)
    assert _settings(db) == {"subfund_share_cap": "0.35"} and len(_audits(db)) == 1
    again = second.post(URL, data={**base, "subfund_share_cap": "0.35", "home_region_prefix": "3303",
                                   "version": _version(second.get(URL).get_data(as_text=True))})
    assert again.status_code == 302
    _approved(db)
    assert _settings(db) == {"subfund_share_cap": "0.35", "home_region_prefix": "3303"}


def test_two_settings_saved_at_once_are_both_kept(app, db, fund, monkeypatch):
    """Each admin changes one setting; the second had read the settings before the first
    committed and written back the whole of them: the first change lost, both audited. The
    fund's row is now taken before the settings are read."""
    import threading

    from portfolio.book import fund_settings
    from tests.races import race, slowed

    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, fund_settings, "defaults_for", started, after=True)
    first, second = race(app, db,
                         lambda s: update_fund_settings(s, "QY", {"committee_quorum": "3"}, username="admin1"),
                         lambda s: update_fund_settings(s, "QY", {"gp_deadline_days": "45"}, username="admin2"),
                         started)
    assert not isinstance(first, FieldErrors) and not isinstance(second, FieldErrors)
    assert _settings(db) == {"committee_quorum": 3, "gp_deadline_days": 45}


def test_the_page_writes_every_setting_as_the_history_does(as_role, db, fund):
    """The settings page had shown a share's default as 0.30 (and its value as 0.35) where the
    history writes 35%: every default and every value in force is now written by the history's
    one function (fund_settings.shown), in both languages, and what the field shows saves back
    unchanged (35%, an exact 12.3456789%, a fraction, a rate)."""
    from portfolio.book.fund_settings import shown

    update_fund_settings(db.session, "QY", {"subfund_share_cap": "0.35", "mirr_finance_rate": "0.065",
                                            "ownership_cap": "0.123456789", "committee_pass_ratio": "5/7"},
                         username="admin0")
    client = as_role("admin")
    stored = dict(_settings(db))
    in_force = {**defaults_for("innovation_fund"), **{k: Decimal(v) if isinstance(v, str) and k != "committee_pass_ratio"
                                                        else v for k, v in stored.items()}}
    in_force["committee_pass_ratio"] = Decimal(5) / Decimal(7)
    for lang in ("zh", "en"):
        client.get(f"/lang/{lang}")
        page = client.get(URL).get_data(as_text=True)
        for key, default in defaults_for("innovation_fund").items():
            cell = re.search(rf'data-default-for="{key}">(.*?)</td>', page, re.S).group(1)
            assert cell == html.escape(shown(key, default, lang), quote=False), (lang, key, cell)
        for key in ("subfund_share_cap", "mirr_finance_rate", "ownership_cap", "committee_pass_ratio",
                    "direct_share_cap", "angel_headcount", "reinvestment_multiple"):
            value = re.search(rf'name="{key}" type="text" value="([^"]*)"', page).group(1)
            assert value == shown(key, in_force[key], lang), (lang, key, value)
        assert 'value="35%"' in page and 'value="6.5%"' in page and 'value="12.3456789%"' in page
        assert 'data-default-for="subfund_share_cap">30%<' in page
        assert not re.search(r'(value="|data-default-for="\w+">)0\.\d', page)  # no share as a decimal
        history = client.get("/history?entity=funds.settings").get_data(as_text=True)
        assert "35%" in history and "6.5%" in history  # the same words there
    # saved back as shown: nothing changes, nothing is audited
    form = {key: shown(key, in_force[key], "zh") for key in ("subfund_share_cap", "mirr_finance_rate",
                                                              "ownership_cap", "committee_pass_ratio")}
    kept = {"prohibited_instruments": defaults_for("innovation_fund")["prohibited_instruments"], "change_reason": REASON}
    assert client.post(URL, data={**kept, **form}).status_code == 302
    assert _settings(db) == stored and len(_audits(db)) == 1
    assert client.post(URL, data={**kept, "subfund_share_cap": "４０％"}).status_code == 302  # typed in full width
    _approved(db)
    assert _settings(db)["subfund_share_cap"] == "0.40"


class _FormAsShown(HTMLParser):
    """What the settings form sends when submitted as the page shows it: each text and hidden
    field's value, the checked boxes, each select's chosen option."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self._select: str | None = None
        self._first: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and name != "csrf_token":
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields.setdefault(name, []).append(a.get("value") or "")
            else:
                self.fields[name] = [a.get("value") or ""]
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            self._first.setdefault(self._select, a.get("value") or "")
            if "selected" in a:
                self.fields[self._select] = [a.get("value") or ""]

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.setdefault(self._select, [self._first.get(self._select, "")])
            self._select = None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_ratio_reads_as_a_multiple_and_the_form_saved_as_shown_changes_nothing(as_role, db, fund, lang):
    """A ratio setting (the required reinvestment multiple, the co-investment to lead ratio)
    was shown on the settings page and in the history as typed, '1.5', with no unit, where
    the quarterly report and the compliance checks write the same limit 1.50x. It reads as a
    multiple now, exactly (1.234x, never rounded to 1.23x), and is read back: the form opened
    and submitted unchanged changes nothing and writes no audit entry."""
    from portfolio.book.fund_settings import shown

    update_fund_settings(db.session, "TS", {"reinvestment_multiple": "1.5", "coinvest_lead_ratio": "1.234",
                                            "subfund_share_cap": "0.35", "committee_pass_ratio": "5/7",
                                            "angel_company_size_cny": "50005000"}, username="admin0")
    stored = dict(_settings(db, "TS"))
    assert stored["reinvestment_multiple"] == "1.5" and len(_audits(db)) == 1
    client = as_role("admin")
    client.get(f"/lang/{lang}")
    url = "/funds/TS/settings"
    page = client.get(url).get_data(as_text=True)
    assert 'name="reinvestment_multiple" type="text" value="1.50x"' in page
    assert 'name="coinvest_lead_ratio" type="text" value="1.234x"' in page
    assert 'data-default-for="reinvestment_multiple">1.00x<' in page  # the angel fund's default
    assert 'data-default-for="coinvest_lead_ratio">1.00x<' in page
    assert shown("reinvestment_multiple", "1.5", lang) == "1.50x"
    history = client.get("/history?entity=funds.settings").get_data(as_text=True)
    assert "1.50x" in history and "1.234x" in history
    parser = _FormAsShown()
    parser.feed(page)
    assert parser.fields["reinvestment_multiple"] == ["1.50x"] and parser.fields["version"][0]
    assert client.post(url, data=parser.fields).status_code == 302
    assert _settings(db, "TS") == stored and len(_audits(db)) == 1
    # typed as people write a multiple, the same value
    assert client.post(url, data={**parser.fields, "reinvestment_multiple": "1.5 倍",
                                  "version": _version(client.get(url).get_data(as_text=True))}).status_code == 302
    assert _settings(db, "TS") == stored and len(_audits(db)) == 1
    assert client.post(url, data={**parser.fields, "reinvestment_multiple": "２Ｘ", "change_reason": REASON,
                                  "version": _version(client.get(url).get_data(as_text=True))}).status_code == 302
    _approved(db, "TS")
    assert _settings(db, "TS")["reinvestment_multiple"] == "2" and len(_audits(db)) == 2


# ---------------------------------------------------------------- maker-checker
from portfolio.book.fund_settings import (  # noqa: E402
    approve_fund_settings,
    decline_fund_settings,
    pending_settings,
    request_fund_settings,
    waiting_settings,
)


def test_a_change_is_asked_for_and_counts_only_once_another_approves_it(db, fund):
    """One person had changed a limit and it took effect at once: a loosened cap could hide a
    breach. A change is now held (pending_corrections, entity funds) until another approves it;
    meanwhile every figure and rule check reads the settings in force."""
    asked = request_fund_settings(db.session, "QY", {"single_company_cap": "50%", "committee_quorum": "3",
                                                     "ownership_cap": "0.30"}, reason=REASON, username="admin1")
    assert asked is not None and (asked.entity, asked.entity_key, asked.asked_by) == ("funds", "QY", "admin1")
    assert asked.fields == {"single_company_cap": "0.50", "committee_quorum": 3}  # 30% is the default: no change
    assert _settings(db) == {} and _audits(db) == []
    [entry] = _audits(db, "request_correction")
    assert entry.username == "admin1" and entry.before == {"single_company_cap": "0.05", "committee_quorum": 5}
    assert entry.after == {"single_company_cap": "0.50", "committee_quorum": 3}  # the settings in force, as asked
    [waiting] = waiting_settings(db.session)
    assert [key for key, _now, _asked in waiting.rows] == ["single_company_cap", "committee_quorum"]
    assert waiting.rows[0][2] == Decimal("0.50")
    with pytest.raises(FieldErrors) as own:
        approve_fund_settings(db.session, "QY", username="admin1")
    assert own.value.errors[0][1].key == "settings_asker_is_checker" and _settings(db) == {}
    in_force = approve_fund_settings(db.session, "QY", username="checker")
    assert in_force["single_company_cap"] == Decimal("0.50") and in_force["committee_quorum"] == 3
    assert _settings(db) == {"single_company_cap": "0.50", "committee_quorum": 3}
    [applied] = _audits(db)
    assert applied.username == "checker" and applied.reason_said["key"] == "settings_asked_by"
    assert "admin1" in applied.reason
    assert pending_settings(db.session, "QY") is None and waiting_settings(db.session) == []


def test_one_request_per_fund_and_nothing_changed_asks_nothing(db, fund):
    assert request_fund_settings(db.session, "QY", {"ownership_cap": "30%"}, reason=None, username="a") is None  # the default
    request_fund_settings(db.session, "QY", {"ownership_cap": "25%"}, reason=REASON, username="a")
    with pytest.raises(FieldErrors) as second:
        request_fund_settings(db.session, "QY", {"committee_quorum": "4"}, reason=REASON, username="b")
    assert second.value.errors[0][1].key == "settings_pending_by"
    assert request_fund_settings(db.session, "TS", {"committee_quorum": "4"}, reason=REASON, username="b")  # another fund
    assert len(waiting_settings(db.session)) == 2 and len(waiting_settings(db.session, "QY")) == 1
    with pytest.raises(FieldErrors):  # a bad value is refused when asked, as when saved
        request_fund_settings(db.session, "TS", {"ownership_cap": "2"}, reason=REASON, username="c")


def test_a_tiny_rate_or_share_asked_for_is_applied_as_asked(db, fund):
    """A rate kept as the float 1e-05 and a share as the text 1E-7 had been read back, when
    approved, with their exponent, which a typed number may not have: refused."""
    request_fund_settings(db.session, "QY", {"mirr_finance_rate": "0.001%", "ownership_cap": "0.00001%"},
                          reason=REASON, username="admin1")
    in_force = approve_fund_settings(db.session, "QY", username="checker")
    assert in_force["mirr_finance_rate"] == 0.00001 and in_force["ownership_cap"] == Decimal("0.0000001")


def test_a_request_gone_stale_is_refused_and_stays_to_be_declined(db, fund):
    request_fund_settings(db.session, "QY", {"ownership_cap": "25%"}, reason=REASON, username="admin1")
    update_fund_settings(db.session, "QY", {"committee_quorum": "4"}, username="loader")  # the settings move on
    with pytest.raises(FieldErrors) as stale:
        approve_fund_settings(db.session, "QY", username="checker")
    assert stale.value.errors[0][1].key == "settings_request_stale"
    assert _settings(db) == {"committee_quorum": 4} and pending_settings(db.session, "QY") is not None
    with pytest.raises(FieldErrors) as no_reason:
        decline_fund_settings(db.session, "QY", {"reason": "  "}, username="checker")
    assert set(no_reason.value.as_dict()) == {"reason"}
    with pytest.raises(FieldErrors) as too_long:
        decline_fund_settings(db.session, "QY", {"reason": "x" * 2001}, username="checker")
    assert set(too_long.value.as_dict()) == {"reason"}
    decline_fund_settings(db.session, "QY", {"reason": "已过时，请重新申请"}, username="checker")
    assert pending_settings(db.session, "QY") is None and _settings(db) == {"committee_quorum": 4}
    [declined] = _audits(db, "reject_correction")
    assert declined.username == "checker" and "已过时，请重新申请" in declined.reason and "admin1" in declined.reason
    with pytest.raises(FieldErrors) as gone:
        approve_fund_settings(db.session, "QY", username="checker")
    assert gone.value.errors[0][1].key == "settings_not_pending"


def test_the_page_shows_the_request_in_its_words_and_a_checker_decides_on_the_pending_list(as_role, db, fund):
    admin = as_role("admin")
    admin.post(URL, data={"subfund_share_cap": "35%", "reinvestment_multiple": "2x", "change_reason": REASON,
                          "prohibited_instruments": defaults_for("innovation_fund")["prohibited_instruments"]})
    page = admin.get(URL).get_data(as_text=True)
    card = page[page.index('id="settings-request"'):page.index('id="fund-settings"')]
    assert "<td>30%</td><td>35%</td>" in card and "<td>1.50x</td><td>2.00x</td>" in card
    refused = admin.post(URL, data={"committee_quorum": "4", "version": _version(page), "change_reason": REASON}
                         ).get_data(as_text=True)
    assert "已有一项设置修改申请待批准" in refused and _settings(db) == {}

    checker = as_role("manager", "checker1")
    home = checker.get("/").get_data(as_text=True)
    assert 'id="todo-settings"' in home and "/funds/QY/settings/approve" in home
    pending = checker.get("/book/pending").get_data(as_text=True)
    assert 'data-settings-request="QY"' in pending and "<td>30%</td><td>35%</td>" in pending
    from tests.visible_text import problems, visible_text

    for lang, words in (("zh", "认缴占子基金规模上限"), ("en", "Cap on commitment / sub-fund size")):
        checker.get(f"/lang/{lang}")
        text = visible_text(checker.get("/book/pending").get_data(as_text=True))
        card = text[text.index("宁波千亿科技创新基金"):]  # the request's card: no code, no raw number
        named = ("宁波千亿科技创新基金", REASON)  # the fund's name and the reason, as typed (no English one)
        assert words in card and problems(card, lang, named) == [], (lang, problems(card, lang, named))
        home = checker.get("/").get_data(as_text=True)
        start = home.rindex("<div", 0, home.index('id="todo-settings"'))
        todo = visible_text(home[start:home.index("</div>", start)])
        assert ("Changes of fund settings waiting" if lang == "en" else "待批准的基金设置修改") in todo
        assert problems(todo, lang) == [], todo
    checker.get("/lang/zh")
    declined = checker.post("/funds/QY/settings/reject", data={"reason": "", "next": "/book/pending"})
    assert declined.status_code == 302 and pending_settings(db.session, "QY") is not None  # a reason is needed
    approved = checker.post("/funds/QY/settings/approve", data={"next": "/book/pending"})
    assert approved.status_code == 302 and approved.headers["Location"].endswith("/book/pending")
    assert _settings(db) == {"subfund_share_cap": "0.35", "reinvestment_multiple": "2"}
    assert "设置修改已批准并生效" in checker.get("/book/pending").get_data(as_text=True)
    assert 'id="todo-settings"' not in checker.get("/").get_data(as_text=True)


def test_the_asker_sees_no_approve_button_and_cannot_approve_by_hand(as_role, db, fund):
    admin = as_role("admin")
    admin.post(URL, data={"committee_quorum": "4", "change_reason": REASON})
    assert 'id="todo-settings"' not in admin.get("/").get_data(as_text=True)
    assert admin.post("/funds/QY/settings/approve").status_code == 302
    assert _settings(db) == {} and pending_settings(db.session, "QY") is not None
    assert "不能批准自己的申请" in admin.get("/book/pending").get_data(as_text=True)
    assert admin.post("/funds/NOPE/settings/approve").status_code == 404


def test_two_checkers_approving_one_change_at_once_apply_it_once(app, db, fund, monkeypatch):
    import threading

    from portfolio.book import fund_settings
    from tests.races import race, slowed

    request_fund_settings(db.session, "QY", {"committee_quorum": "3"}, reason=REASON, username="admin1")
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, fund_settings, "pending_settings", started, after=True)  # the first has read the request
    first, second = race(app, db, lambda s: approve_fund_settings(s, "QY", username="chk1"),
                         lambda s: approve_fund_settings(s, "QY", username="chk2"), started)
    assert sum(isinstance(o, FieldErrors) for o in (first, second)) == 1
    assert len(_audits(db)) == 1 and _settings(db) == {"committee_quorum": 3}
    assert pending_settings(db.session, "QY") is None


def test_two_changes_asked_at_once_keep_one_waiting(app, db, fund, monkeypatch):
    import threading

    from portfolio.book import fund_settings
    from tests.races import race, slowed

    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, fund_settings, "pending_settings", started, after=True)  # the first found none waiting
    first, second = race(app, db,
                         lambda s: request_fund_settings(s, "QY", {"committee_quorum": "3"}, reason=REASON, username="a1"),
                         lambda s: request_fund_settings(s, "QY", {"committee_quorum": "4"}, reason=REASON, username="a2"),
                         started)
    assert sum(isinstance(o, FieldErrors) for o in (first, second)) == 1
    [waiting] = waiting_settings(db.session)
    assert [e.username for e in _audits(db, "request_correction")] == [waiting.pending.asked_by]


def test_a_change_is_asked_for_with_a_reason_the_checker_reads(as_role, db, fund):
    """A change of settings had been asked for with no reason (stored empty): the checker
    approved a loosened limit without knowing why. A reason is now required (at most 2,000
    characters, as a correction's), refused beside its field, kept as the request's audit
    reason and shown on the request's card, in both languages."""
    for typed, key in ((None, "required"), ("   ", "required"), ("x" * 2001, "too_long")):
        with pytest.raises(FieldErrors) as refused:
            request_fund_settings(db.session, "QY", {"ownership_cap": "25%"}, reason=typed, username="admin1")
        assert [(field, message.key) for field, message in refused.value.errors] == [("change_reason", key)]
    with pytest.raises(FieldErrors) as both:  # with a bad value: every refusal at once
        request_fund_settings(db.session, "QY", {"ownership_cap": "2"}, reason="", username="admin1")
    assert set(both.value.as_dict()) == {"ownership_cap", "change_reason"}
    assert pending_settings(db.session, "QY") is None and _audits(db, "request_correction") == []

    admin = as_role("admin")
    page = admin.get(URL).get_data(as_text=True)
    assert 'name="change_reason"' in page and "修改理由" in page
    kept = {"prohibited_instruments": defaults_for("innovation_fund")["prohibited_instruments"], "ownership_cap": "25%"}
    refused_page = admin.post(URL, data={**kept, "change_reason": " "}).get_data(as_text=True)
    assert 'data-field="change_reason">必填' in refused_page and 'value="25%"' in refused_page
    assert pending_settings(db.session, "QY") is None
    why = "被投企业所在行业集中度上升，降低持股上限"
    assert admin.post(URL, data={**kept, "change_reason": why}).status_code == 302
    assert pending_settings(db.session, "QY").reason == why
    [asked] = _audits(db, "request_correction")
    assert asked.reason == why and asked.reason_said is None  # a person's words, stored as typed

    checker = as_role("manager", "checker1")
    for lang, label in (("zh", "修改理由："), ("en", "Reason for the change: ")):
        checker.get(f"/lang/{lang}")
        pending = checker.get("/book/pending").get_data(as_text=True)
        card = pending[pending.index('data-settings-request="QY"'):]
        assert f"{label}{why}" in card[:card.index("</p>")], lang
    approve_waiting_settings(db.session, "QY", checker="checker1")
    assert _settings(db) == {"ownership_cap": "0.25"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_value_the_form_cannot_read_and_the_use_case_s_faults_show_on_one_submit(as_role, db, fund, lang):
    """A value over the form's 40 characters (its own check) hid the use case's faults (an
    amount it cannot read, a share over 100 %, the reason left empty) until the next submit.
    Now all four are beside their fields at once, and nothing is asked for."""
    from portfolio.messages import Message
    from tests.test_error_texts import _errors

    client = as_role("admin")
    client.get(f"/lang/{lang}")
    page = client.post(URL, data={"home_region_prefix": "3" * 41, "angel_company_size_cny": "abc",
                                  "subfund_share_cap": "1.5", "change_reason": ""})
    assert page.status_code == 200
    errors = {f: [html.unescape(m) for m in said] for f, said in _errors(page.get_data(as_text=True)).items()}
    assert set(errors) == {"home_region_prefix", "angel_company_size_cny", "subfund_share_cap", "change_reason"}, errors
    assert errors["home_region_prefix"] == [Message("too_long", max_len=40).shown(lang)]
    assert errors["change_reason"] == [Message("required").shown(lang)]
    assert _settings(db) == {} and _audits(db, "request_correction") == []
