"""Charts draw Chinese with Noto Sans CJK SC, registered by file (portfolio/reports/charts.py),
even when matplotlib's font cache was built before the font was installed."""
from __future__ import annotations

import warnings

from matplotlib import font_manager

from portfolio.reports import charts


def test_the_chinese_font_resolves_to_its_file():
    assert charts.register_font()
    path = font_manager.findfont(font_manager.FontProperties(family=charts.FONT), fallback_to_default=False)
    assert "NotoSansCJK" in path


def test_a_stale_font_cache_is_mended_by_registering_the_files():
    manager = font_manager.fontManager
    saved = list(manager.ttflist)
    try:
        # what a cache from before `apt-get install fonts-noto-cjk` holds: no CJK entry
        manager.ttflist = [f for f in saved if "CJK" not in f.name]
        assert not any(f.name == charts.FONT for f in manager.ttflist)
        assert charts.register_font()
        assert any(f.name == charts.FONT for f in manager.ttflist)
    finally:
        manager.ttflist = saved


def test_a_chart_with_chinese_labels_draws_every_glyph():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning: fail on it
        svg = charts.sector_chart({"materials": {"nav": 1_000_000}, "digital": {"nav": 2_500_000}}, lang="zh")
    assert svg is not None and "先进材料" in svg and "剩余价值（万元）" in svg
    assert charts.FONT in svg  # text stays text, set in the registered font
