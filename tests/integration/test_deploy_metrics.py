"""Every metric name used by the chart's dashboards and alert rules is exposed by a
running service: a renamed metric breaks the build.

Starts `pingan migrate` + `pingan serve <service>` for every registered service
(env PINGAN_DEPLOYTEST_SERVICES narrows it), each on a vhost and database of this run's
own (so concurrent runs on one broker and server never meet), a real Prometheus bound to
127.0.0.1 scraping them and loading the
rendered alert rules, then compares the names Prometheus sees (series + scraped
metadata) with those referenced by the dashboards and rules that `helm template`
renders for exactly those services (their values-listed rule/panel files), with the
audit log jobs and their alerts on (auditLog.enabled).
Metrics of other exporters are excluded explicitly (deploy/check_metrics.py): RabbitMQ's
(rabbitmq_*) and kube-state-metrics' (kube_*, which the audit alerts use: a CronJob cannot
be scraped, so they watch its Jobs). No pingan service metric is needed for the audit alerts.

Needs: RabbitMQ and PostgreSQL on loopback, the `pingan` package installed, and
`make -f mk/deploy.mk deploy-tools` (helm in .tools/bin, Debian's prometheus).
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests.polling import NotReached, wait_until

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy"))
import check_metrics  # noqa: E402

from shared.security.keys import local_public_env, local_signing_env  # noqa: E402

pytestmark = pytest.mark.integration

def _services() -> list[str]:
    if os.environ.get("PINGAN_DEPLOYTEST_SERVICES"):
        return [s for s in os.environ["PINGAN_DEPLOYTEST_SERVICES"].split(",") if s]
    from shared.registry import service_names

    return service_names()


def _edges() -> list[str]:
    if "PINGAN_DEPLOYTEST_EDGES" in os.environ:
        return [e for e in os.environ["PINGAN_DEPLOYTEST_EDGES"].split(",") if e]
    from shared.registry import edge_names

    return edge_names()


SERVICES = _services()
EDGES = _edges()  # the gateway: no database; the chart's down alert covers it too
AMQP_URI = os.environ.get("PINGAN_DEPLOYTEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
# Own vhost, so the services started here never take RPC calls meant for other tests'
# services on the same broker (falls back to the URI's vhost if it cannot be made).
RUN = uuid.uuid4().hex[:10]
VHOST = f"pingan_deploytest_{RUN}"
PG_ADMIN = os.environ.get("PINGAN_DEPLOYTEST_PG_ADMIN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
DB_BASE = "postgresql+psycopg2://postgres@127.0.0.1:5432/"
DB_NAME = f"pingan_deploytest_{RUN}"  # + "_<service>"
START_TIMEOUT = 90
SCRAPE_TIMEOUT = 60


def _tool(name: str) -> str:
    override = os.environ.get(f"PINGAN_DEPLOYTEST_{name.upper()}_BIN")
    if override:
        return override
    for cand in (REPO / ".tools" / "bin" / name, Path(sys.executable).parent / name):
        if cand.exists():
            return str(cand)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: run `make -f mk/deploy.mk deploy-tools` (and `pip install .` for pingan)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(url: str, timeout: float = 3) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def _wait(what: str, predicate, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None):
    def tail() -> str:
        return log.read_text()[-4000:] if log and log.exists() else ""

    def ready():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: process exited with {proc.returncode}\n{tail()}")
        return predicate()

    try:
        wait_until(ready, timeout, what, interval=0.5, ignoring=(OSError, ValueError, KeyError))
    except NotReached as timed_out:
        pytest.fail(f"{timed_out}\n{tail()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _isolated_amqp_uri() -> str:
    if "PINGAN_DEPLOYTEST_AMQP_URI" in os.environ:
        return AMQP_URI
    auth = {"Authorization": "Basic " + base64.b64encode(b"guest:guest").decode(), "content-type": "application/json"}
    try:
        for path in (f"/api/vhosts/{VHOST}", f"/api/permissions/{VHOST}/guest"):
            body = b"{}" if "vhosts" in path else b'{"configure": ".*", "write": ".*", "read": ".*"}'
            req = urllib.request.Request("http://127.0.0.1:15672" + path, data=body, headers=auth, method="PUT")
            urllib.request.urlopen(req, timeout=5).close()
        return AMQP_URI.rstrip("/") + "/" + VHOST
    except OSError:
        pass
    ctl = shutil.which("rabbitmqctl")
    if ctl:
        made = subprocess.run([ctl, "add_vhost", VHOST], capture_output=True, text=True, timeout=60)
        if made.returncode == 0 or "already exists" in made.stderr + made.stdout:
            perm = subprocess.run([ctl, "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
                                  capture_output=True, timeout=60)
            if perm.returncode == 0:
                return AMQP_URI.rstrip("/") + "/" + VHOST
    print(f"note: could not create vhost {VHOST}; using {AMQP_URI}")
    return AMQP_URI


def _db_name(service: str) -> str:
    return f"{DB_NAME}_{service}"


def _databases(create: bool) -> None:
    """Create this run's databases, empty, or drop them."""
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for service in SERVICES:
                cur.execute(f'DROP DATABASE IF EXISTS "{_db_name(service)}" WITH (FORCE)')
                if create:
                    cur.execute(f'CREATE DATABASE "{_db_name(service)}"')
    finally:
        conn.close()


def _drop_vhost() -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(b"guest:guest").decode()}
    request = urllib.request.Request(f"http://127.0.0.1:15672/api/vhosts/{VHOST}", headers=auth, method="DELETE")
    # made by rabbitmqctl, or never made: nothing of this run's to remove
    with contextlib.suppress(OSError):
        urllib.request.urlopen(request, timeout=10).close()


def _render_chart(tmp: Path) -> Path:
    """helm template for exactly the running services, with rules and dashboards on."""
    values = yaml.safe_load((REPO / "charts/pingan/values.yaml").read_text())
    unknown = set(SERVICES) - set(values["services"])
    assert not unknown, f"services {unknown} are not in charts/pingan/values.yaml"
    args = [_tool("helm"), "template", "pingan", str(REPO / "charts/pingan"), "-n", "pingan",
            "--set", "metrics.prometheusRule.enabled=true", "--set", "dashboards.enabled=true",
            "--set", "auditLog.enabled=true", "--set", "auditLog.alerts=true"]
    for name in values["services"]:
        args += ["--set", f"services.{name}.enabled={'true' if name in SERVICES else 'false'}"]
    args += ["--set", f"gateway.enabled={'true' if 'gateway' in EDGES else 'false'}"]
    out = tmp / "rendered.yaml"
    out.write_text(subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout)
    return out


def _serve(pingan: str, name: str, env: dict, port: int, tmp, procs: list, checks: tuple[str, ...]) -> int:
    """`pingan serve <name>` in its own session, kept in ``procs``, once each of ``checks`` answers 200."""
    log = tmp / f"{name}.log"
    proc = subprocess.Popen([pingan, "serve", name], env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(proc)
    for path in checks:
        _wait(f"{name} {path}", lambda path=path: _http(f"http://127.0.0.1:{port}{path}")[0] == 200,
              START_TIMEOUT, proc, log)
    return port


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deploy-metrics")
    pingan = _tool("pingan")
    prometheus = _tool("prometheus")
    _databases(create=True)
    amqp_uri = _isolated_amqp_uri()
    procs: list[subprocess.Popen] = []
    targets = {}
    try:
        for service in SERVICES:
            port = _free_port()
            env = dict(os.environ,
                       AMQP_URI=amqp_uri,
                       PINGAN_DATABASE_URL=DB_BASE + _db_name(service),
                       **local_public_env(tmp / "keys", SERVICES),
                       **local_signing_env(tmp / "keys", service),
                       PINGAN_PERSONAL_DATA_KEY=base64.b64encode(b"deploytest-personal-data-key-32b").decode(),
                       PINGAN_CHAIN_KEY=base64.b64encode(b"deploytest-chain-link-key-32byte").decode(),
                       PINGAN_LOG_FORMAT="json",
                       PINGAN_HTTP_ADDRESS=f"127.0.0.1:{port}",
                       PINGAN_DATA_DIR=str(tmp / f"data-{service}"))
            mig = subprocess.run([pingan, "migrate", service], env=env, capture_output=True, text=True, timeout=120)
            assert mig.returncode == 0, f"pingan migrate {service} failed:\n{mig.stdout}\n{mig.stderr}"
            targets[service] = _serve(pingan, service, env, port, tmp, procs, checks=("/health", "/ready"))

        for edge in EDGES:
            port = _free_port()
            env = dict(os.environ, AMQP_URI=amqp_uri, PINGAN_LOG_FORMAT="json",
                       PINGAN_HTTP_ADDRESS=f"127.0.0.1:{port}", PINGAN_DATA_DIR=str(tmp / f"data-{edge}"))
            targets[edge] = _serve(pingan, edge, env, port, tmp, procs, checks=("/ready",))

        rendered = _render_chart(tmp)
        rules = [d for d in yaml.safe_load_all(rendered.read_text()) if d and d["kind"] == "PrometheusRule"]
        (tmp / "rules.yaml").write_text(yaml.safe_dump(rules[0]["spec"]))
        prom_port = _free_port()
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(tmp / "rules.yaml")],
            "scrape_configs": [{
                "job_name": "pingan",
                "honor_labels": True,  # like the chart's ServiceMonitor
                "static_configs": [{"targets": [f"127.0.0.1:{port}"],
                                    "labels": {"service": service, "namespace": "pingan"}}
                                   for service, port in targets.items()],
            }],
        }
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        plog = tmp / "prometheus.log"
        prom = subprocess.Popen(
            [prometheus, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--storage.tsdb.retention.time=1h"],
            stdout=plog.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(prom)
        url = f"http://127.0.0.1:{prom_port}"

        def all_up():
            data = json.loads(_http(f"{url}/api/v1/targets")[1])["data"]["activeTargets"]
            return len(data) == len(targets) and all(t["health"] == "up" for t in data)

        _wait("Prometheus targets up", all_up, SCRAPE_TIMEOUT, prom, plog)

        def scraped_twice():  # metadata is cached per target after a full scrape
            meta = json.loads(_http(f"{url}/api/v1/metadata")[1])["data"]
            return "pingan_up" in meta

        _wait("Prometheus metadata", scraped_twice, SCRAPE_TIMEOUT, prom, plog)
        yield {"prometheus": url, "rendered": rendered, "targets": targets, "tmp": tmp}
    finally:
        for p in reversed(procs):
            _stop(p)
        _databases(create=False)
        _drop_vhost()


def test_every_dashboard_and_alert_metric_is_exposed(stack):
    used, recorded = check_metrics.referenced_metrics([stack["rendered"].read_text()])
    assert "pingan_entrypoint_calls_total" in used and "pingan_up" in used, "renderer found no metrics"
    # The audit alerts watch the audit CronJobs' Jobs through kube-state-metrics, excluded by name.
    assert "kube_job_failed" in used and "kube_cronjob_status_last_successful_time" in used, sorted(used)
    assert not [m for m in used if m.startswith("pingan_audit")], "audit alerts must not need a service metric"
    exposed = check_metrics.exposed_from_prometheus(stack["prometheus"])
    missing = check_metrics.missing_metrics(used, exposed, recorded)
    print(check_metrics.report(used, missing))
    assert not missing, check_metrics.report(used, missing)


def test_rendered_rules_load_and_evaluate_in_prometheus(stack):
    url = stack["prometheus"]

    def evaluated():
        groups = json.loads(_http(f"{url}/api/v1/rules")[1])["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return rules and all(r.get("lastEvaluation", "").startswith("20") and r.get("health") == "ok" for r in rules)

    _wait("rules evaluated with health ok", evaluated, 30)

    def not_down():  # an evaluation before the first scrape may leave a pending alert for 1 interval
        alerts = json.loads(_http(f"{url}/api/v1/alerts")[1])["data"]["alerts"]
        return not [a for a in alerts if a["labels"]["alertname"] == "PinganServiceDown"]

    _wait("no PinganServiceDown alert while every service runs", not_down, 20)


def test_renamed_metric_breaks_the_check(stack):
    """The check has teeth: the same scrape with one metric renamed is reported missing."""
    used, recorded = check_metrics.referenced_metrics([stack["rendered"].read_text()])
    text = ""
    for port in stack["targets"].values():  # every running service's scrape together
        status, scraped = _http(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        text += scraped
    renamed = text.replace("pingan_entrypoint_calls_total", "pingan_entrypoint_call_count_total")
    exposed = check_metrics.exposed_from_text(renamed) | check_metrics.SCRAPE_GENERATED
    missing = check_metrics.missing_metrics(used, exposed, recorded)
    assert "pingan_entrypoint_calls_total" in missing
    assert not check_metrics.missing_metrics(used, check_metrics.exposed_from_text(text)
                                             | check_metrics.SCRAPE_GENERATED, recorded)
