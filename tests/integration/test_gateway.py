"""The HTTP gateway in front of grid_events, on real RabbitMQ and PostgreSQL: an integration client's
Bearer token reaches the service as its own, refusals are RFC 9457 problems with the catalogue's
statuses, and bad input is refused before or by the service with nothing stored."""

import json
from uuid import uuid4

import pytest
import requests
from eventlet.event import Event
from nameko.rpc import rpc

from services.gateway.edge import GatewayService
from tests.e2e.processes import free_port
from tests.integration.test_grid_events_service import DISPUTE, stored_events
from tests.polling import wait_until

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture
def cache_off(monkeypatch):
    """Every call reads the client registry: a revocation holds at once."""
    monkeypatch.setenv("PINGAN_CLIENT_CACHE_SECONDS", "0")


@pytest.fixture
def gateway(cache_off, grid_seeded, container_factory, service_config):
    port = free_port()
    container = container_factory(GatewayService, {**service_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    container.start()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def hotline(registry, tokens):
    registry.register("operator-1", client_id="hotline", name="Citizen hotline", jurisdiction="433100")
    return {"Authorization": f"Bearer {registry.issue(tokens, 'hotline')}"}


def report(gateway, headers, body=None, **extra):
    return requests.post(f"{gateway}/v1/reports", json=DISPUTE if body is None else body,
                         headers={**headers, **extra}, timeout=15)


def assert_problem(answer, status, code):
    assert (answer.status_code, answer.headers["Content-Type"]) == (status, PROBLEM)
    body = answer.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert (body["status"], body["code"], body["type"]) == (status, code, f"urn:pingan:problem:{code}")


def test_gateway_report_reads_back_with_outcome_fields(gateway, hotline):
    reported = report(gateway, hotline, {**DISPUTE, "external_ref": "ticket-1"})
    assert reported.status_code == 201
    found = requests.get(f"{gateway}/v1/reports/{reported.json()['event_id']}", headers=hotline, timeout=15)
    assert found.status_code == 200
    assert {"status", "feedback", "satisfied", "external_ref"} <= set(found.json())


def test_gateway_lists_own_reports_by_external_ref(gateway, hotline):
    reported = report(gateway, hotline, {**DISPUTE, "external_ref": "ticket-2"}).json()
    report(gateway, hotline, {**DISPUTE, "external_ref": "ticket-3"})
    listed = requests.get(f"{gateway}/v1/reports", params={"external_ref": "ticket-2"}, headers=hotline, timeout=15)
    assert [row["event_id"] for row in listed.json()["items"]] == [reported["event_id"]]


def test_gateway_idempotency_key_repeat_returns_first_answer_and_stores_nothing(gateway, hotline, pg_url):
    key = {"Idempotency-Key": f"hotline:{uuid4()}"}
    first = report(gateway, hotline, **key)
    before = stored_events(pg_url)
    again = report(gateway, hotline, **key)
    assert (again.status_code, again.json()) == (201, first.json())
    assert stored_events(pg_url) == before


def test_gateway_idempotency_key_reused_for_other_arguments_is_409(gateway, hotline, pg_url):
    key = {"Idempotency-Key": f"hotline:{uuid4()}"}
    report(gateway, hotline, **key)
    before = stored_events(pg_url)
    assert_problem(report(gateway, hotline, {**DISPUTE, "place": "the well"}, **key), 409, "conflict")
    assert stored_events(pg_url) == before


def test_gateway_catch_up_returns_signed_envelopes(gateway, hotline):
    report(gateway, hotline, {**DISPUTE, "external_ref": "ticket-4"})
    page = requests.get(f"{gateway}/v1/services/grid_events/events", params={"position": 0, "limit": 100},
                        headers=hotline, timeout=15).json()
    mine = [item for item in page["items"] if item["body"]["data"].get("external_ref") == "ticket-4"]
    assert [item["body"]["event_type"] for item in mine] == ["dispute_reported"]
    assert set(mine[0]["headers"]) == {"nameko.event_signer", "nameko.event_signature"}


def test_gateway_catch_up_of_unknown_service_is_404(gateway, hotline):
    answer = requests.get(f"{gateway}/v1/services/nowhere/events", headers=hotline, timeout=15)
    assert_problem(answer, 404, "not_found")


def test_gateway_without_bearer_is_401_and_stores_nothing(gateway, pg_url):
    before = stored_events(pg_url)
    answer = report(gateway, {})
    assert_problem(answer, 401, "unauthenticated")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert stored_events(pg_url) == before


def test_gateway_forged_bearer_is_401(gateway, hotline):
    token = hotline["Authorization"]
    assert_problem(report(gateway, {"Authorization": token[:-4] + "AAAA"}), 401, "unauthenticated")


def test_gateway_revoked_client_is_401_at_once(gateway, hotline, registry, pg_url):
    assert report(gateway, hotline).status_code == 201
    registry.revoke("operator-1", "hotline")
    before = stored_events(pg_url)
    assert_problem(report(gateway, hotline, **{"Idempotency-Key": str(uuid4())}), 401, "unauthenticated")
    assert stored_events(pg_url) == before


def test_gateway_others_record_is_404(gateway, hotline, rpc_as):
    from shared.context import Role

    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101", actor_id="officer-1") as rpc:
        theirs = rpc.grid_events.report_event(**DISPUTE)
    answer = requests.get(f"{gateway}/v1/reports/{theirs['event_id']}", headers=hotline, timeout=15)
    assert_problem(answer, 404, "not_found")


def test_gateway_client_reading_a_past_version_is_403(gateway, hotline):
    mine = report(gateway, hotline).json()
    answer = requests.get(f"{gateway}/v1/reports/{mine['event_id']}", params={"as_of": "1"}, headers=hotline,
                          timeout=15)
    assert_problem(answer, 403, "forbidden")


def test_gateway_listing_another_reporter_returns_only_own(gateway, hotline, rpc_as):
    from shared.context import Role

    with rpc_as(role=Role.COUNTY_OFFICER, jurisdiction="433101", actor_id="officer-1") as rpc:
        rpc.grid_events.report_event(**DISPUTE)
    listed = requests.get(f"{gateway}/v1/reports", params={"reporter_id": "officer-1"}, headers=hotline, timeout=15)
    assert listed.json()["items"] == []


HOSTILE = {
    "nul in a field": (dict(DISPUTE, description="wall\u0000"), 422, "validation_failed"),
    "control character": (dict(DISPUTE, place="court\u001byard"), 422, "validation_failed"),
    "1 MB field": (dict(DISPUTE, description="x" * 1_000_000), 413, "body_too_large"),
    "unknown field": (dict(DISPUTE, reporter="someone"), 422, "validation_failed"),
    "command id in body": (dict(DISPUTE, command_id="x"), 422, "validation_failed"),
    "array body": ([DISPUTE], 400, "malformed_body"),
    "full-width digits": (dict(DISPUTE, grid_code="４３３１０１００１００１００１"), 422, "validation_failed"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_gateway_hostile_json_is_a_problem_and_stores_nothing(gateway, hotline, pg_url, case):
    body, status, code = HOSTILE[case]
    before = stored_events(pg_url)
    assert_problem(report(gateway, hotline, body), status, code)
    assert stored_events(pg_url) == before


RAW = {
    "malformed json": (b'{"grid_code": ', "application/json", 400, "malformed_body"),
    "raw nul byte": (json.dumps(DISPUTE).replace("boundary", "bound\x00ary").encode(), "application/json", 400,
                     "malformed_body"),
    "not utf-8": (json.dumps(DISPUTE).replace("boundary", "bound\xffary").encode("latin-1"), "application/json",
                  400, "malformed_body"),
    "NaN": (b'{"grid_code": NaN}', "application/json", 400, "malformed_body"),
    "field named twice": (b'{"place": "a", "place": "b"}', "application/json", 400, "malformed_body"),
    "nested past the parser": (b"[" * 30_000 + b"]" * 30_000, "application/json", 400, "malformed_body"),
    "wrong content type": (json.dumps(DISPUTE).encode(), "text/plain", 415, "unsupported_media_type"),
    "1 MB body": (b" " * 1_048_576 + json.dumps(DISPUTE).encode(), "application/json", 413, "body_too_large"),
}


@pytest.mark.parametrize("case", sorted(RAW))
def test_gateway_bad_body_is_a_problem_and_stores_nothing(gateway, hotline, pg_url, case):
    data, content_type, status, code = RAW[case]
    before = stored_events(pg_url)
    answer = requests.post(f"{gateway}/v1/reports", data=data, headers={**hotline, "Content-Type": content_type},
                           timeout=15)
    assert_problem(answer, status, code)
    assert stored_events(pg_url) == before


def test_gateway_bad_idempotency_key_is_422_and_stores_nothing(gateway, hotline, pg_url):
    before = stored_events(pg_url)
    assert_problem(report(gateway, hotline, **{"Idempotency-Key": "k" * 101}), 422, "validation_failed")
    assert stored_events(pg_url) == before


def test_gateway_bad_query_number_is_422(gateway, hotline):
    answer = requests.get(f"{gateway}/v1/services/grid_events/events", params={"position": "１"}, headers=hotline,
                          timeout=15)
    assert_problem(answer, 422, "validation_failed")


def test_gateway_problem_never_repeats_the_callers_value(gateway, hotline):
    canary = f"Canary{uuid4().hex[:10]}"
    answer = report(gateway, hotline, dict(DISPUTE, severity=canary))
    assert answer.status_code == 422 and canary not in answer.text


def test_gateway_offers_no_erasure_and_the_record_stays(gateway, hotline):
    mine = report(gateway, hotline).json()
    for method, path in (("DELETE", f"/v1/reports/{mine['event_id']}"),
                         ("POST", f"/v1/reports/{mine['event_id']}/erase")):
        assert_problem(requests.request(method, f"{gateway}{path}", headers=hotline, timeout=15), 404, "not_found")
    kept = requests.get(f"{gateway}/v1/reports/{mine['event_id']}", headers=hotline, timeout=15).json()
    assert kept["description"] == DISPUTE["description"]


def test_gateway_serves_its_committed_openapi_document(gateway):
    from shared.contract_docs import DOCS

    answer = requests.get(f"{gateway}/openapi.json", timeout=15)
    assert answer.json() == json.loads((DOCS / "gateway" / "openapi.json").read_text())


def test_gateway_service_not_running_is_503_with_retry_after(gateway, hotline):
    answer = requests.get(f"{gateway}/v1/services/mediation/events", headers=hotline, timeout=15)
    assert_problem(answer, 503, "service_unavailable")
    assert answer.headers["Retry-After"] == "5"


class StalledGridEvents:
    """Stands in for grid_events: takes the report and does not answer until the test ends."""

    name = "grid_events"
    release = None

    @rpc
    def report_event(self, **arguments):
        StalledGridEvents.release.wait()


@pytest.fixture
def stalled_gateway(monkeypatch, container_factory, service_config):
    monkeypatch.setenv("PINGAN_GATEWAY_TIMEOUT", "0.5")
    StalledGridEvents.release = Event()
    container_factory(StalledGridEvents, service_config).start()
    port = free_port()
    container_factory(GatewayService, {**service_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}).start()
    yield f"http://127.0.0.1:{port}"
    StalledGridEvents.release.send(None)


def test_gateway_service_not_answering_in_time_is_503_with_retry_after(stalled_gateway):
    answer = report(stalled_gateway, {"Authorization": "Bearer any"}, **{"Idempotency-Key": "k-1"})
    assert_problem(answer, 503, "service_unavailable")
    assert answer.headers["Retry-After"] == "5" and "Idempotency-Key" in answer.json()["detail"]


def test_gateway_access_log_keeps_no_query_string(gateway, hotline, debug_logs):
    canary = f"Canary{uuid4().hex[:10]}"
    requests.get(f"{gateway}/v1/reports", params={"external_ref": canary}, headers=hotline, timeout=15)

    def lines():  # the server writes the line after it has sent the answer
        return [record.getMessage() for record in debug_logs.records if record.name == "nameko.web.server"
                and "GET /v1/reports" in record.getMessage()]

    assert not any(canary in line for line in wait_until(lines, 10, "the access log line"))


def test_gateway_metrics_count_its_routes_as_http(gateway, hotline):
    report(gateway, hotline)
    metrics = requests.get(f"{gateway}/metrics", timeout=15).text
    assert 'pingan_entrypoint_calls_total{entrypoint="report",kind="http",service="gateway"}' in metrics


def test_gateway_metrics_say_it_is_up_for_the_service_down_alert(gateway):
    """The chart's PinganServiceDown reads pingan_up{service}; the gateway has no store, relay or read
    models, so it says only that it is up."""
    metrics = requests.get(f"{gateway}/metrics", timeout=15).text
    assert 'pingan_up{service="gateway"} 1.0' in metrics
    assert 'pingan_relay_lag_events{service="gateway"}' not in metrics


def test_gateway_replicas_given_the_same_key_at_once_store_one_report(gateway, hotline, container_factory,
                                                                       service_config, pg_url):
    """Two gateway replicas, each sent the same report with the same key at the same time (a client
    retrying through a load balancer): one report, and each answer is it or a conflict to re-read."""
    import eventlet

    port = free_port()
    container_factory(GatewayService, {**service_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}).start()
    other = f"http://127.0.0.1:{port}"
    key = {"Idempotency-Key": f"hotline:{uuid4()}"}
    body = {**DISPUTE, "external_ref": "ticket-at-once"}
    answers = [thread.wait() for thread in [eventlet.spawn(report, base, hotline, body, **key)
                                            for base in (gateway, other, gateway, other)]]
    listed = requests.get(f"{gateway}/v1/reports", params={"external_ref": "ticket-at-once"}, headers=hotline,
                          timeout=15).json()["items"]
    assert len(listed) == 1
    assert {a.json()["event_id"] for a in answers if a.status_code == 201} == {listed[0]["event_id"]}
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
