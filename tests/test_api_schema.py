"""The JSON API against its own OpenAPI description (served at /api/v1/openapi.json), by
schemathesis on a live server: generated requests never get a 5xx, every answer has a
status the description lists, JSON, in the described shape."""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, PASSWORD, make_user
from web.api import openapi_document

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def api(db, live_server):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    make_user(db, "api_reader", "viewer")
    session = requests.Session()
    response = session.post(live_server + "/login", data={"username": "api_reader", "password": PASSWORD},
                            allow_redirects=False)
    assert response.status_code == 302
    return session, live_server


def test_the_description_is_served_and_lists_the_report(api):
    session, base = api
    served = session.get(base + "/api/v1/openapi.json")
    assert served.status_code == 200 and served.json() == openapi_document()
    assert "/funds/{code}/report" in served.json()["paths"]


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_generated_requests_never_get_a_server_error(case, api):
    session, base = api
    response = case.call(base_url=base + "/api/v1", session=session)
    case.validate_response(response)
