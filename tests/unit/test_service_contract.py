"""The contract suite: every registered service, through its own entrypoints on the in-memory kit,
keeps a canary written into its free-text fields out of its stored events, read-model rows, logs
and published payloads; changes nothing on a refused command; audits every personal-data read; and
refuses a 1 MB string (and a text one character past its limit) in every string field of every RPC
method with a typed error that names the field, never repeats the value and stores nothing.

A service joins by declaring ``tests/scenarios/<service>.py`` (tests/contract_support.py,
docs/adding-a-service.md); the suite itself is never edited for a new service."""

import logging
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from shared.context import CallerContext, Role
from shared.contract_docs import rpc_models
from shared.errors import PinganError, ValidationFailed
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


# -- oversize input ---------------------------------------------------------------------------------

MEGABYTE = 1_000_000
# Any caller: a payload is validated before anything is authorised, loaded or stored.
ANYONE = CallerContext(actor_id="officer-1", role=Role.PREFECTURE_OFFICER, jurisdiction="433100")


Path = tuple[str | int, ...]  # field names, and 0 for an item of a list


def string_paths(model) -> dict[Path, int | None]:
    """Each place in a payload of ``model`` that takes a string (in nested objects and lists too), as the
    payload names it, with its documented length limit if it has one."""
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.get("$defs", {})
    found: dict[Path, int | None] = {}

    def walk(node: dict, path: Path) -> None:
        if "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[-1]]
        for option in node.get("anyOf", []):
            walk(option, path)
        if node.get("type") == "string" and path:
            found[path] = found.get(path) or node.get("maxLength")
        elif node.get("type") == "array" and len(path) < 6:
            walk(node.get("items", {}), (*path, 0))
        elif node.get("type") == "object" and len(path) < 6:
            for name, field in node.get("properties", {}).items():
                walk(field, (*path, name))

    walk(schema, ())
    return found


def payload_at(path: Path, value: str) -> object:
    if not path:
        return value
    inner = payload_at(path[1:], value)
    return [inner] if path[0] == 0 else {path[0]: inner}


def refusal_of(run: Run, method: str, path: Path, value: str) -> str | None:
    """What is wrong with how ``method`` answers ``value`` at ``path`` (None: refused as it must be)."""
    try:
        getattr(run.worker(ANYONE), method)(**payload_at(path, value))  # type: ignore[arg-type]
    except ValidationFailed as refused:
        said = repr(refused.args)
        if value[:40] in said or len(said) > 10_000:
            return "the error repeats the value"
        top, leaf = str(path[0]), str([part for part in path if part != 0][-1])
        problems = refused.details if isinstance(refused.details, list) else []
        if not any(str(p.get("field", "")).split(".")[0] == top and leaf in str(p.get("field", ""))
                   or leaf in str(p.get("problem", "")) for p in problems):
            return "the error does not name the field"
        return None
    except PinganError as other:
        return f"refused as {type(other).__name__}, not ValidationFailed"
    return "accepted"


def oversize_refusals(run: Run, length: object) -> tuple[list, tuple]:
    """Every string field of every RPC method given a value of ``length(limit)`` characters: what went wrong,
    and the stored events and read-model counts before and after."""
    before = run.counts()
    wrong = []
    for method, model in sorted(rpc_models(service_class(run.service)).items()):
        for path, limit in string_paths(model).items():
            size = length(limit)  # type: ignore[operator]
            if size is None:
                continue
            value = (f"Oversize{uuid4().hex[:12]}" + "x" * size)[:size]
            problem = refusal_of(run, method, path, value)
            if problem:
                wrong.append((method, ".".join(map(str, path)), problem))
    return wrong, (before, run.counts())


def test_contract_megabyte_string_in_any_field_is_refused_by_name(run):
    wrong, _ = oversize_refusals(run, lambda limit: MEGABYTE)
    assert wrong == []


def test_contract_megabyte_strings_store_nothing(run):
    _, (before, after) = oversize_refusals(run, lambda limit: MEGABYTE)
    assert after == before


def test_contract_text_one_past_its_limit_is_refused_by_name(run):
    wrong, _ = oversize_refusals(run, lambda limit: None if limit is None else limit + 1)
    assert wrong == []

