"""The contract suite: every registered service, through its own entrypoints on the in-memory kit,
keeps a canary written into its free-text fields out of its stored events, read-model rows, logs
and published payloads; changes nothing on a refused command; and audits every personal-data read.

A service joins by declaring ``tests/scenarios/<service>.py`` (tests/contract_support.py,
docs/adding-a-service.md); the suite itself is never edited for a new service."""

import logging
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from shared.errors import PinganError
from shared.registry import service_class, service_names
from shared.testing import CountingVault, service_worker
from tests.contract_support import app_for, scenario_of, store_of


class Run:
    """One service's scenario on a fresh in-memory application, read models and vault."""

    def __init__(self, service: str):
        self.service = service
        self.scenario = scenario_of(service)
        self.store = store_of(service)
        self.vault = CountingVault.in_memory()
        self.app = app_for(service, self.vault)
        self.worker = service_worker(service_class(service), self.app, self.store.projections, self.vault,
                                     **self.scenario.dependencies)
        self.canary = f"Canary{uuid4().hex[:12]}"

    def stored(self) -> list:
        return list(self.app.recorder.select_notifications(start=1, limit=1_000_000))

    def rows(self) -> dict[str, list]:
        worker = self.worker(None)
        worker.store.catch_up()
        with worker.store.engine.connect() as conn:
            return {table.name: [dict(row) for row in conn.execute(select(table)).mappings()]
                    for projection in self.store.projections for table in projection.tables}

    def counts(self) -> tuple:
        worker = self.worker(None)
        worker.store.catch_up()
        with worker.store.engine.connect() as conn:
            tables = {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                      for projection in self.store.projections for table in projection.tables}
        return len(self.stored()), tables


@pytest.fixture(params=service_names())
def run(request):
    return Run(request.param)


@pytest.fixture
def written(run, caplog):
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs:
        record_id = run.scenario.write(run.worker, run.canary)
    run.logs = repr(logs) + caplog.text
    return record_id


def test_contract_scenario_is_declared_for_every_service():
    missing = []
    for service in service_names():
        try:
            scenario_of(service)
        except LookupError:
            missing.append(service)
    assert missing == []


def test_contract_stored_events_hold_no_plaintext(run, written):
    leaked = [n.topic for n in run.stored() if run.canary.encode() in n.state]
    assert leaked == []


def test_contract_read_model_rows_hold_no_plaintext(run, written):
    leaked = [table for table, rows in run.rows().items() if run.canary in repr(rows)]
    assert leaked == []


def test_contract_logs_hold_no_plaintext(run, written):
    assert run.canary not in run.logs


def test_contract_published_payloads_hold_no_plaintext(run, written):
    assert run.store.contracts is not None, f"{run.service} declares no published contracts"
    payloads = [payload.model_dump_json() for n in run.stored()
                for _, payload in run.store.contracts.public_events(run.app.mapper.to_domain_event(n))]
    assert payloads and [p for p in payloads if run.canary in p] == []


def test_contract_refused_command_changes_no_table(run, written):
    before = run.counts()
    with pytest.raises(PinganError):
        run.scenario.refuse(run.worker, written)
    assert run.counts() == before


def test_contract_personal_data_read_is_audited(run, written):
    before = len(run.stored())
    found = run.scenario.read(run.worker, written)
    audits = [n.topic for n in run.stored()[before:] if "ReadAudited" in n.topic]
    assert run.canary in repr(found) and audits
