"""The chart deploys exactly the registered services: its ``services`` map in
charts/pingan/values.yaml (migrate hook, helm test, audit CronJobs, alerts, panels)
names every ``services/<name>/service.py`` and nothing else (docs/adding-a-service.md)."""

from pathlib import Path

import pytest
import yaml

from shared.registry import edge_names, service_names

CHART = Path(__file__).resolve().parents[2] / "charts" / "pingan"
PROMTOOL = Path(__file__).resolve().parents[2] / "deploy" / "promtool"


def chart_services() -> dict:
    return yaml.safe_load((CHART / "values.yaml").read_text())["services"]


def test_chart_services_are_the_registered_services():
    assert sorted(chart_services()) == service_names()


@pytest.mark.parametrize("service", service_names())
def test_chart_service_monitoring_files_exist(service):
    monitoring = (chart_services()[service] or {}).get("monitoring", {})
    missing = [f"rules/{name}.yaml" for name in monitoring.get("ruleFiles", [])
               if not (CHART / "rules" / f"{name}.yaml").is_file()]
    missing += [f"dashboards/regulation/{name}.json" for name in monitoring.get("regulationPanels", [])
                if not (CHART / "dashboards" / "regulation" / f"{name}.json").is_file()]
    assert missing == []


def services_with_rules() -> list[str]:
    return [name for name in service_names()
            if ((chart_services().get(name) or {}).get("monitoring", {})).get("ruleFiles")]


@pytest.mark.parametrize("service", services_with_rules())
def test_chart_service_alert_rules_have_their_own_promtool_tests(service):
    """A service with alert rules of its own tests them in deploy/promtool/<service>.test.yaml."""
    assert (PROMTOOL / f"{service}.test.yaml").is_file()


@pytest.mark.parametrize("edge", edge_names())
def test_chart_deploys_every_edge_with_its_own_template(edge):
    """An edge (services/<name>/edge.py) is not among `services` (it has no database to migrate) but has
    its own values section and template running `pingan serve <edge>`."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    template = CHART / "templates" / f"{edge}.yaml"
    assert values[edge]["enabled"] is True and edge not in chart_services()
    assert f'args: ["serve", "{edge}"]' in template.read_text()
