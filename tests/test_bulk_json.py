"""The import's bulk path writes JSON (an audit entry's before and after) by orjson: the value
read back is json.dumps's, whatever the text (interchange.bulk._dumps)."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.interchange.bulk import _dumps

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@given(json_values)
def test_the_value_read_back_is_json_dumps_value(value):
    assert json.loads(_dumps(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize("value", [
    {"note": "首期出资 30%", "amount_cny": "12345.67", "ref": None},  # Chinese kept as UTF-8
    {"fen": 2 ** 70},       # beyond 64 bits: orjson refuses, json.dumps takes it
    {1: "a key not a string"},  # json.dumps makes it "1"
    [],
])
def test_what_orjson_refuses_or_writes_otherwise_reads_back_as_json_dumps(value):
    assert json.loads(_dumps(value)) == json.loads(json.dumps(value))


def test_chinese_is_written_as_itself():
    assert _dumps({"note": "跟投"}) == '{"note":"跟投"}'
