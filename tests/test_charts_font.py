"""Charts draw Chinese as text in Noto Sans CJK SC (portfolio/reports/svg.py): the SVG names
the font, and WeasyPrint draws the chart's Chinese with it in the PDF (embedded, as text)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from portfolio.reports import charts, svg


def test_a_chart_names_the_chinese_font_and_keeps_text_as_text():
    drawn = charts.sector_chart({"materials": {"nav": 1_000_000}, "digital": {"nav": 2_500_000}}, lang="zh")
    assert drawn is not None and ">先进材料</text>" in drawn and ">剩余价值（万元）</text>" in drawn
    assert 'font-family="Noto Sans CJK SC, sans-serif"' in drawn and svg.FONT == charts.FONT == "Noto Sans CJK SC"


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils")
def test_the_pdf_draws_the_chart_s_chinese_with_the_font(tmp_path):
    from weasyprint import HTML

    drawn = charts.sector_chart({"materials": {"nav": 1_000_000}}, lang="zh")
    path = tmp_path / "chart.pdf"
    HTML(string=f"<html><body>{drawn}</body></html>").write_pdf(path)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "先进材料" in text and "剩余价值（万元）" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    assert "Noto-Sans-CJK-SC" in fonts
