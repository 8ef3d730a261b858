"""A synthetic, valid interchange book of any size (千亿 fund QY and the angel fund TS), for
the tests that need volume and for the benchmarks (benchmarks/heavy_book.py).

    from portfolio.interchange.synthetic import generate_heavy_book
    folder = generate_heavy_book(tmp / "heavy", investments=120)   # cached in the folder by its parameters

Deterministic for a seed. Flows are dated on or after their investment, valuations are
quarter ends after it, co-investments sit alongside a sub-fund their fund holds, and the
company credit codes carry a valid check character.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio.vocabulary import SECTORS, credit_code_check_char

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_LOCAL = ["330203", "330205", "330206", "330211", "330212", "330213", "330281", "330282"]
_OUTSIDE = ["310115", "440305", "320505", "110108", "330106"]


def credit_code(rng: np.random.Generator, region: str) -> str:
    body = "91" + region + "".join(rng.choice(list(_ALPHABET), 9))
    return body + credit_code_check_char(body)


def _quarter_ends(start: pd.Timestamp, n: int) -> list[pd.Timestamp]:
    first = (start + pd.offsets.QuarterEnd(0)).normalize()
    return [first + pd.offsets.QuarterEnd(k) for k in range(n)]


def _within_commitment(rng: np.random.Generator, amount_fen: np.ndarray, owner: np.ndarray, contribution: np.ndarray,
                       commitment_fen: np.ndarray, sub_fund: np.ndarray) -> np.ndarray:
    """The flows' amounts scaled per holding (`owner`: each flow's): its contributions to a share
    of its commitment (30–100 % for a sub-fund, all of it otherwise), its distributions to
    0–1.5× that; in fen, each flow rounded down and never below 1 fen, the fen rounded away put
    on the holding's first flow of the kind, so that its flows of a kind add up to their total
    exactly (a direct investment is paid in full, not left a few fen short)."""
    n = len(commitment_fen)
    called = np.floor(commitment_fen * np.where(sub_fund, rng.uniform(0.3, 1.0, n), 1.0))
    returned = np.floor(called * rng.uniform(0.0, 1.5, n))
    out = np.empty_like(amount_fen)
    for kind, total in ((contribution, called), (~contribution, returned)):
        rows = np.flatnonzero(kind)
        drawn = np.bincount(owner[rows], weights=amount_fen[rows], minlength=n)
        scaled = np.maximum(np.floor(amount_fen[rows] * (total[owner[rows]] / drawn[owner[rows]])), 1)
        short = np.maximum(total - np.bincount(owner[rows], weights=scaled, minlength=n), 0)
        holders, first = np.unique(owner[rows], return_index=True)
        scaled[first] += short[holders]
        out[rows] = scaled.astype(amount_fen.dtype)
    return out


def _holding_rows(sub_fund_codes, company_codes, holdings: int) -> list[tuple[str, str, str]]:
    """(sub-fund, quarter end, company): each sub-fund reports quarterly on a slice of 25
    companies, from 2021Q1, up to `holdings` rows in all."""
    per_report = 25
    rows: list[tuple[str, str, str]] = []
    for q in _quarter_ends(pd.Timestamp("2021-03-31"), 40):
        for j, sf in enumerate(sub_fund_codes):
            start = (j * per_report) % (len(company_codes) - per_report)
            for c in company_codes[start:start + per_report]:
                rows.append((sf, q.strftime("%Y-%m-%d"), c))
                if len(rows) >= holdings:
                    return rows
    return rows


def generate_heavy_book(folder: str | Path, *, investments: int = 2000, flows: int = 100_000,
                        valuations: int = 20_000, holdings: int = 25_000, seed: int = 1,
                        xlsx: bool = False, within_commitment: bool = False) -> Path:
    """Write the book as CSV files into `folder` (and `book.xlsx` beside them if asked); its path.

    The flows' amounts are drawn apart from the commitments, so a holding's contributions come to
    several times its commitment (3.6–3.8× for the default sizes): every holding is fully called,
    and a forecast has no call left to simulate. `within_commitment` scales each holding's
    contributions to a drawn share of its commitment (a sub-fund commitment 30–100 % called, a
    direct or co-investment all of it) and its distributions to a drawn multiple of that
    (0–1.5×), in fen: the same flows, dates and kinds, the amounts of a fund whose sub-funds
    still call. Its draws come from a stream of their own, so the default book
    is the same with or without the option."""
    params = dict(investments=investments, flows=flows, valuations=valuations, holdings=holdings, seed=seed,
                  version=1, **({"within_commitment": True} if within_commitment else {}))
    folder = Path(folder)
    marker = folder / "params.json"
    if marker.exists() and json.loads(marker.read_text()) == params and (not xlsx or (folder / "book.xlsx").exists()):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    funds = pd.DataFrame([
        {"code": "QY", "name": "宁波千亿科技创新基金", "name_en": "Ningbo 100bn S&T Innovation Fund",
         "kind": "innovation_fund", "parent_code": "", "size_cny": 100_000_000_000, "vintage_year": 2018,
         "currency": "CNY"},
        {"code": "TS", "name": "宁波天使投资引导基金", "name_en": "Ningbo Angel Guidance Fund",
         "kind": "angel_guidance", "parent_code": "", "size_cny": 5_000_000_000, "vintage_year": 2018,
         "currency": "CNY"},
    ])
    n_sf = 100
    sub_funds = pd.DataFrame({
        "code": [f"HSF{i:04d}" for i in range(n_sf)],
        "name": [f"宁波第{i}号创业投资合伙企业（有限合伙）" for i in range(n_sf)],
        "manager": [f"甬江资本管理{i % 30}号有限公司" for i in range(n_sf)],
        "size_cny": rng.integers(5, 50, n_sf) * 100_000_000,
        "vintage_year": rng.integers(2018, 2022, n_sf),
        "sector": rng.choice(SECTORS[:5], n_sf),
        "region_code": rng.choice(_LOCAL + _OUTSIDE[:1], n_sf),
        "term_years": rng.integers(7, 11, n_sf),
    })
    n_co = max(investments, holdings // 40 + 1, 200)
    regions = rng.choice(_LOCAL + _OUTSIDE, n_co)
    companies = pd.DataFrame({
        "code": [f"HC{i:05d}" for i in range(n_co)],
        "name": [f"甬创{i}科技有限公司" for i in range(n_co)],
        "credit_code": [credit_code(rng, r) for r in regions],
        "sector": rng.choice(SECTORS[:5], n_co),
        "region_code": regions,
        "founded": pd.to_datetime("2005-01-01") + pd.to_timedelta(rng.integers(0, 4500, n_co), unit="D"),
    })
    companies = companies.drop_duplicates("credit_code")

    # investments: each fund commits to sub-funds, the rest are direct and co-investments
    sf_qy = [("QY", c) for c in sub_funds["code"]]
    sf_ts = [("TS", c) for c in sub_funds["code"][: n_sf // 2]]
    commits = (sf_qy + sf_ts)[: max(investments // 10, 1)]
    n_other = investments - len(commits)
    rows_fund = [f for f, _ in commits]
    rows_mode = ["sub_fund"] * len(commits)
    rows_target = [c for _, c in commits]
    rows_along = [""] * len(commits)
    held: dict[str, list[str]] = {}
    for f, c in commits:
        held.setdefault(f, []).append(c)
    other_fund = rng.choice(["QY", "TS"], n_other, p=[0.7, 0.3])
    other_mode = rng.choice(["direct", "co_invest"], n_other, p=[0.6, 0.4])
    co_codes = companies["code"].to_numpy()
    for i in range(n_other):
        f, m = other_fund[i], other_mode[i]
        if f not in held:
            m = "direct"
        rows_fund.append(f)
        rows_mode.append(m)
        rows_target.append(co_codes[i % len(co_codes)])
        rows_along.append(held[f][i % len(held[f])] if m == "co_invest" else "")
    n_inv = len(rows_fund)
    inv_dates = pd.to_datetime("2018-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365, n_inv), unit="D")
    commitment = rng.integers(10, 500, n_inv) * 1_000_000
    inv = pd.DataFrame({
        "id": [f"{f}-H{i:05d}" for i, f in enumerate(rows_fund)],
        "fund_code": rows_fund, "mode": rows_mode, "target_code": rows_target, "alongside_code": rows_along,
        "date": inv_dates.strftime("%Y-%m-%d"), "commitment_cny": commitment,
        "round": rng.choice(["天使轮", "A轮", "B轮", "C轮", ""], n_inv),
        "ownership_pct": np.round(rng.uniform(0.5, 30, n_inv), 2),
        "instrument": rng.choice(["equity", "equity", "equity", "convertible", ""], n_inv),
        "stage": rng.choice(["seed", "startup", "growth", "mature"], n_inv),
    })
    inv.loc[inv["mode"] == "sub_fund", ["round", "instrument", "stage"]] = ""

    # flows: spread over the investments, dated after each investment, half with a ref
    owner = rng.integers(0, n_inv, flows)
    owner[:n_inv] = np.arange(n_inv)  # every investment has at least its first call
    offset = rng.integers(0, 6 * 365, flows)
    offset[:n_inv] = 0
    flow_dates = inv_dates[owner] + pd.to_timedelta(offset, unit="D")
    kinds = np.where((offset > 700) & (rng.random(flows) < 0.35), "distribution", "contribution")
    amount_fen = rng.integers(100_000, 5_000_000_000, flows)
    if within_commitment:
        amount_fen = _within_commitment(np.random.default_rng([seed, 1]), amount_fen, owner, kinds == "contribution",
                                        commitment * 100, np.array(rows_mode) == "sub_fund")
    amount = pd.Series(amount_fen // 100).astype(str) + "." + pd.Series(amount_fen % 100).astype(str).str.zfill(2)
    order = np.lexsort((flow_dates.values, owner))
    flow_df = pd.DataFrame({"investment_id": inv["id"].to_numpy()[owner], "date": flow_dates.strftime("%Y-%m-%d"),
                            "type": kinds, "amount_cny": amount.to_numpy(),
                            "note": np.where(kinds == "contribution", "实缴出资", "项目分配"), "ref": ""})
    flow_df = flow_df.iloc[order].reset_index(drop=True)
    seq = flow_df.groupby("investment_id").cumcount()
    with_ref = seq.to_numpy() % 2 == 0
    flow_df.loc[with_ref, "ref"] = "PAY-" + seq[with_ref].astype(str).str.zfill(5)

    # valuations: quarter ends after the investment, up to `valuations` rows in all
    per = max(1, -(-valuations // n_inv))
    v_rows = []
    for iid, d in zip(inv["id"], inv_dates):
        for k, q in enumerate(_quarter_ends(d, per)):
            v_rows.append((iid, q.strftime("%Y-%m-%d"), k))
            if len(v_rows) >= valuations:
                break
        if len(v_rows) >= valuations:
            break
    vals = pd.DataFrame(v_rows, columns=["investment_id", "as_of", "k"])
    base = pd.Series(commitment, index=inv["id"]).loc[vals["investment_id"]].to_numpy()
    vals["fair_value_cny"] = (base * rng.uniform(0.3, 2.5, len(vals))).round(2)
    vals["method"] = np.where(vals["investment_id"].isin(inv.loc[inv["mode"] == "sub_fund", "id"]), "gp_nav",
                              rng.choice(["last_round", "comparables", "dcf", "cost"], len(vals)))
    vals = vals.drop(columns="k")

    # holdings: each sub-fund reports quarterly on a slice of companies
    hold = pd.DataFrame(_holding_rows(sub_funds["code"].to_numpy(), co_codes, holdings),
                        columns=["sub_fund_code", "as_of", "company_code"])
    hold["cost_cny"] = rng.integers(1, 200, len(hold)) * 1_000_000
    hold["fair_value_cny"] = (hold["cost_cny"] * rng.uniform(0, 3, len(hold))).round(2)

    sheets = {"funds": funds, "sub_funds": sub_funds, "companies": companies.assign(
        founded=companies["founded"].dt.strftime("%Y-%m-%d")), "investments": inv, "cash_flows": flow_df,
        "valuations": vals, "sub_fund_holdings": hold}
    for name, frame in sheets.items():
        frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8")
    if xlsx:
        with pd.ExcelWriter(folder / "book.xlsx", engine="openpyxl") as writer:
            for name, frame in sheets.items():
                frame.to_excel(writer, sheet_name=name, index=False)
    marker.write_text(json.dumps(params))
    return folder
