"""mediation opens a case's sealed fields only after the access decision: a denied read decrypts
nothing (a vault that counts what it opens, through the service's own entrypoint)."""

import pytest

from services.mediation import contracts as c
from services.mediation import projections as views
from services.mediation.application import MediationApplication
from services.mediation.service import MediationService
from shared.context import CallerContext, Role
from shared.errors import Forbidden
from shared.testing import CountingVault, call_as, memory_app, service_worker
from shared.validation import parse

VILLAGE = "433101001001"
OUTSIDER = CallerContext(actor_id="officer-5", role=Role.COUNTY_OFFICER, jurisdiction="433102")
MEDIATOR = CallerContext(actor_id="mediator-1", role=Role.MEDIATOR, jurisdiction=VILLAGE)


@pytest.fixture
def vault():
    return CountingVault.in_memory()


@pytest.fixture
def app():
    return memory_app(MediationApplication)


@pytest.fixture
def case_id(app, vault):
    return app.open_case(call_as(MEDIATOR), parse(c.OpenCase, {
        "jurisdiction": VILLAGE, "source": "petition", "subject": "Wu Mei's wall",
        "parties": [{"name": "Wu Mei", "languages": ["mandarin"], "understands_mandarin": True}]}),
        vault.seal)["case_id"]


@pytest.fixture
def service(app, vault):
    return service_worker(MediationService, app, views.projections(), vault)


def test_denied_case_read_opens_no_sealed_value(case_id, vault, service):
    with pytest.raises(Forbidden):
        service(OUTSIDER).get_case(case_id=case_id, purpose="case_work")
    assert vault.opened == 0


def test_permitted_case_read_opens_its_sealed_values(case_id, vault, service):
    case = service(MEDIATOR).get_case(case_id=case_id, purpose="case_work")
    assert (case["subject"], case["parties"][0]["name"]) == ("Wu Mei's wall", "Wu Mei")
    assert vault.opened >= 2
