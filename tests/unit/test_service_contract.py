"""The contract suite: every registered service, through its own entrypoints on the in-memory kit,
keeps a canary written into its free-text fields out of its stored events, read-model rows, logs
and published payloads; changes nothing on a refused command; audits every personal-data read; and
refuses a 1 MB string (and a text one character past its limit) in every string field of every RPC
method, and full-width digits in every field that takes digits (numbers, dates, ids, codes), with a
typed error that names the field, never repeats the value and stores nothing.

A service joins by declaring ``tests/scenarios/<service>.py`` (tests/contract_support.py,
docs/adding-a-service.md); the suite itself is never edited for a new service."""

import logging
import re
from types import NoneType, UnionType
from typing import Annotated, Union, get_args, get_origin
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from shared.context import CallerContext, Role
from shared.contract_docs import rpc_models
from shared.errors import PinganError, ValidationFailed
from shared.jurisdiction import check_code
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


# -- full-width digits ------------------------------------------------------------------------------

# ０-９ look like 0-9 and Python's int() and \d take them; every field that takes digits must not.
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
# ASCII values some pattern of a field taking digits accepts: the first one a field's pattern matches,
# its digits made full-width, is what that field is sent.
PATTERN_CANDIDATES = ["433101199001010012", "2026-01", "T12", "P12", "433101:ab12", "ab12", "12"]
BY_FORMAT = {"date": "2026-01-02", "date-time": "2026-01-02T03:04:05+00:00",
             "uuid": "5e1b0c1d-2f3a-4b5c-8d7e-9f0a1b2c3d4e"}
BY_TYPE = {"integer": "12", "number": "0.5"}


def schema_leaves(model) -> dict[Path, dict]:
    """Each place in a payload of ``model`` that takes a single value (in nested objects and lists too),
    with the JSON schema of what it takes there (a union's options merged)."""
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.get("$defs", {})
    found: dict[Path, dict] = {}

    def walk(node: dict, path: Path) -> None:
        if "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[-1]]
        for option in node.get("anyOf", []):
            walk(option, path)
        kind = node.get("type")
        if kind == "array" and len(path) < 6:
            walk(node.get("items", {}), (*path, 0))
        elif kind == "object" and len(path) < 6:
            for name, field in node.get("properties", {}).items():
                walk(field, (*path, name))
        elif kind in ("string", "integer", "number") and path:
            found.setdefault(path, {}).update({k: node[k] for k in ("type", "format", "pattern") if k in node})

    walk(schema, ())
    return found


def code_paths(model) -> set[Path]:
    """The places in a payload of ``model`` that take a jurisdiction code (a validator, not a schema pattern)."""
    found: set[Path] = set()

    def walk(annotation, metadata: list, path: Path) -> None:
        origin = get_origin(annotation)
        if origin is Annotated:
            inner, *extra = get_args(annotation)
            walk(inner, [*metadata, *extra], path)
        elif origin in (Union, UnionType):
            for option in get_args(annotation):
                if option is not NoneType:
                    walk(option, metadata, path)
        elif origin in (list, tuple, set, frozenset) and len(path) < 6:
            walk(get_args(annotation)[0], [], (*path, 0))
        elif isinstance(annotation, type) and hasattr(annotation, "model_fields") and len(path) < 6:
            for name, field in annotation.model_fields.items():
                walk(field.annotation, field.metadata, (*path, field.alias or name))
        elif any(getattr(item, "func", None) is check_code for item in metadata):
            found.add(path)

    walk(model, [], ())
    return found


def digit_examples(model) -> tuple[dict[Path, str], list[str]]:
    """For each place in a payload of ``model`` that takes digits, an otherwise well-formed value written
    with full-width digits; and the digit patterns no candidate matches (which this suite must learn)."""
    examples: dict[Path, str] = {path: "433101" for path in code_paths(model)}
    unmatched = []
    for path, leaf in schema_leaves(model).items():
        ascii_value = BY_FORMAT.get(leaf.get("format", "")) or BY_TYPE.get(leaf.get("type", ""))
        pattern = leaf.get("pattern", "")
        if ascii_value is None and "0-9" in pattern:
            ascii_value = next((c for c in PATTERN_CANDIDATES if re.search(pattern, c)), None)
            if ascii_value is None:
                unmatched.append(pattern)
        if ascii_value is not None:
            examples.setdefault(path, ascii_value)
    return {path: value.translate(FULL_WIDTH) for path, value in examples.items()}, unmatched


def full_width_refusals(run: Run) -> tuple[list, list, tuple]:
    """Every field that takes digits, of every RPC method, given full-width digits: what went wrong, the
    patterns left untried, and the stored events and read-model counts before and after."""
    before = run.counts()
    wrong, unmatched = [], []
    for method, model in sorted(rpc_models(service_class(run.service)).items()):
        examples, untried = digit_examples(model)
        unmatched += [(method, pattern) for pattern in untried]
        for path, value in examples.items():
            problem = refusal_of(run, method, path, value)
            if problem:
                wrong.append((method, ".".join(map(str, path)), problem))
    return wrong, unmatched, (before, run.counts())


def test_contract_full_width_digits_in_any_digit_field_are_refused_by_name(run):
    wrong, unmatched, _ = full_width_refusals(run)
    assert unmatched == [], "a digit pattern no candidate matches: add one to PATTERN_CANDIDATES"
    assert wrong == []


def test_contract_full_width_digits_store_nothing(run):
    _, _, (before, after) = full_width_refusals(run)
    assert after == before


def test_contract_full_width_digits_reach_every_kind_of_digit_field():
    """The suite's own reach: across the services it sends full-width digits to codes, numbers, dates,
    date-times, ids and patterned fields, so a refusal above is not vacuous."""
    kinds = set()
    for service in service_names():
        for model in rpc_models(service_class(service)).values():
            if code_paths(model):
                kinds.add("code")
            kinds |= {leaf.get("format") or leaf.get("type") if "pattern" not in leaf else "pattern"
                      for leaf in schema_leaves(model).values()}
    assert {"code", "integer", "date", "date-time", "uuid", "pattern"} <= kinds
