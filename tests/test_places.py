"""Issue 15: region codes were shown bare ("330206"). Each is now shown with its place name
(GB/T 2260: Ningbo's districts and counties, Zhejiang's cities, the provinces), in the
reader's language; an unknown code is shown alone, never guessed."""
from __future__ import annotations

import pytest

from portfolio.interchange.importing import import_book
from portfolio.vocabulary import place
from tests.conftest import EXAMPLE_BOOK


@pytest.mark.parametrize(("code", "zh", "en"), [
    ("330206", "330206 宁波市北仑区", "330206 Beilun District, Ningbo"),
    ("330203", "330203 宁波市海曙区", "330203 Haishu District, Ningbo"),
    ("330282", "330282 宁波市慈溪市", "330282 Cixi, Ningbo"),
    ("330106", "330106 浙江省杭州市", "330106 Hangzhou, Zhejiang"),
    ("310115", "310115 上海市", "310115 Shanghai"),
    ("440305", "440305 广东省", "440305 Guangdong"),
    ("990000", "990000", "990000"),
    (None, "", ""),
])
def test_a_code_with_its_place_name(code, zh, en):
    assert place(code) == zh and place(code, lang="en") == en


def test_the_companies_page_names_the_places(db, as_role):
    assert import_book(db.session, EXAMPLE_BOOK, username="test").ok
    client = as_role("viewer")
    page = client.get("/companies").get_data(as_text=True)
    assert "330206 宁波市北仑区" in page and "310115 上海市" in page and "440305 广东省" in page
    client.get("/lang/en")
    page = client.get("/companies").get_data(as_text=True)
    assert "330206 Beilun District, Ningbo" in page and "北仑" not in page
    assert "330206 Beilun District, Ningbo" in client.get("/companies/C1").get_data(as_text=True)
